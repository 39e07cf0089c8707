"""Knowledge articles over the API: `/api/v1/articles/` (CRUD by number through the services, one POST per declared
action, comments, timeline), and what hangs off one article:

- `versions/` and `versions/{n}/`: the published versions, kept for good; `compare/?from=&to=`: what changed;
- `votes/`: GET the votes (staff), POST one (anyone who may read the article);
- `uses/`: POST an incident number ("used to resolve"); `deflections/`: POST ("this solved it" in the portal);
- `search/?q=&type=&service=&audience=`: ranked full-text search with highlighted snippets;
- `from-known-error/`: POST a known error's number to publish its workaround as a draft article.

Requesters read only live articles for everyone, and only their published version (`ArticleReaderSerializer`).
"""

from __future__ import annotations

from django.db.models import Prefetch
from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import exceptions, serializers, status
from rest_framework.decorators import action as route
from rest_framework.response import Response

from cmdb.models import ConfigurationItem
from itsm.api.records import RecordViewSet
from itsm.views.records import find_record

from ..models import Article, ArticleVersion, ArticleVote
from . import serializers as s
from .filters import ArticleFilterSet

VERSION = OpenApiParameter('version', int, OpenApiParameter.PATH, description='The version number (1, 2, ...).')
SEARCH_PARAMETERS = [
    OpenApiParameter('q', str, required=True, description='Words; "quoted phrase", or, -excluded.'),
    OpenApiParameter('type', str, enum=[c for c, _ in s.ArticleType.choices]),
    OpenApiParameter('service', str, description='A service CI number.'),
    OpenApiParameter('audience', str, enum=[c for c, _ in s.Audience.choices]),
    OpenApiParameter('limit', int, description='At most this many hits (1–100, 20 by default).'),
    OpenApiParameter('offset', int, description='Skip this many hits first.'),
]
COMPARE_PARAMETERS = [
    OpenApiParameter('from', int, required=True, description='The older version.'),
    OpenApiParameter('to', int, description='The newer version; left out, the working copy.'),
]


def services():
    # Imported when called: the services module is the one place business rules live.
    from .. import services as module

    return module


class ArticleViewSet(RecordViewSet):
    """Knowledge articles, addressed by number. They are never deleted: they are retired."""

    queryset = Article.objects.all()
    serializer_class = s.ArticleSerializer
    filterset_class = ArticleFilterSet
    http_method_names = ['get', 'post', 'patch', 'head', 'options']

    def get_queryset(self):
        user = self.request.user
        records = Article.objects.visible_to(user).select_related('published_version')
        if not user.is_requester_only:
            records = records.select_related('owner', 'known_error').prefetch_related(
                Prefetch('services', queryset=ConfigurationItem.objects.only('pk', 'number', 'ci_class')),
                Prefetch('cis', queryset=ConfigurationItem.objects.only('pk', 'number', 'ci_class')),
                'categories',
            )
        else:
            records = records.prefetch_related(
                Prefetch('services', queryset=ConfigurationItem.objects.only('pk', 'number', 'ci_class'))
            )
        return records.order_by('-opened_at', '-id')

    def get_serializer_class(self):
        if self.request is not None and getattr(self.request.user, 'is_requester_only', False):
            return s.ArticleReaderSerializer
        if self.action in ('partial_update', 'update'):
            return s.ArticleUpdateSerializer
        return s.ArticleSerializer

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        data['title'] = data.pop('short_description')
        article = services().article_create(actor=self.actor(), **data)
        serializer.instance = self.reload(article)

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        if 'short_description' in data:
            data['title'] = data.pop('short_description')
        article = services().article_update(article=serializer.instance, actor=self.actor(), **data)
        serializer.instance = self.reload(article)

    def require(self, permission: str) -> None:
        if not self.request.user.has_perm(f'knowledge.{permission}'):
            raise exceptions.PermissionDenied(f'You may not {permission.replace("_", " ")}s.')

    # -- versions
    @extend_schema(responses=s.ArticleVersionSerializer(many=True))
    @route(detail=True, methods=['get'], permission_action='view', filter_backends=[], pagination_class=None)
    def versions(self, request, number=None):
        """Every published version, newest first. Requesters see them only for articles for everyone."""
        article = self.get_object()
        rows = self._versions(article)
        return Response(s.ArticleVersionSerializer(rows, many=True, context=self.get_serializer_context()).data)

    def _versions(self, article):
        return ArticleVersion.objects.filter(article=article).select_related('article', 'author', 'approved_by')

    @extend_schema(parameters=[VERSION], responses=s.ArticleVersionSerializer)
    @route(
        detail=True,
        methods=['get'],
        url_path=r'versions/(?P<version>[0-9]+)',
        url_name='version',
        permission_action='view',
        filter_backends=[],
    )
    def version(self, request, number=None, version=None):
        """One published version as it went out."""
        article = self.get_object()
        row = self._versions(article).filter(version=int(version)).first()
        if row is None:
            raise Http404(f'{article.number} has no version {version}.')
        return Response(s.ArticleVersionSerializer(row, context=self.get_serializer_context()).data)

    @extend_schema(
        parameters=COMPARE_PARAMETERS,
        responses=inline_serializer(
            'ArticleComparison',
            {
                'from': serializers.IntegerField(),
                'to': serializers.IntegerField(allow_null=True),
                'rows': s.DiffRowSerializer(many=True),
            },
        ),
    )
    @route(detail=True, methods=['get'], permission_action='view', filter_backends=[])
    def compare(self, request, number=None):
        """What changed between two published versions, or between a version and the working copy (staff)."""
        from ..versions import compare

        article = self.get_object()
        query = s.CompareQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        versions = {v.version: v for v in self._versions(article)}
        old_number, new_number = query.validated_data['from_'], query.validated_data.get('to')
        missing = [n for n in (old_number, new_number) if n is not None and n not in versions]
        if missing:
            raise Http404(f'{article.number} has no version {missing[0]}.')
        if new_number is None and request.user.is_requester_only:
            raise exceptions.PermissionDenied('Only the desk compares a version with the working copy.')
        new = versions[new_number] if new_number is not None else article
        rows = compare(versions[old_number], new)
        return Response({'from': old_number, 'to': new_number, 'rows': s.DiffRowSerializer(rows, many=True).data})

    # -- votes, uses and deflections
    @extend_schema(methods=['get'], responses=s.ArticleVoteSerializer(many=True))
    @extend_schema(methods=['post'], request=s.VoteSerializer, responses={201: s.ArticleVoteSerializer})
    @route(
        detail=True,
        methods=['get', 'post'],
        permission_action={'GET': 'view', 'HEAD': 'view', 'OPTIONS': 'view', 'POST': 'view'},
        filter_backends=[],
        pagination_class=None,
    )
    def votes(self, request, number=None):
        """Helpful or not, with a comment: the desk reads them; whoever may read the article votes (once: a new
        vote replaces theirs)."""
        article = self.get_object()
        if request.method == 'POST':
            self.require('add_articlevote')
            payload = s.VoteSerializer(data=request.data)
            payload.is_valid(raise_exception=True)
            vote = services().article_vote(article=article, actor=self.actor(), **payload.validated_data)
            vote = ArticleVote.objects.select_related('article', 'voter').get(pk=vote.pk)
            return Response(s.ArticleVoteSerializer(vote).data, status=status.HTTP_201_CREATED)
        self.require('view_articlevote')
        rows = ArticleVote.objects.filter(article=article).select_related('article', 'voter')
        return Response(s.ArticleVoteSerializer(rows, many=True).data)

    @extend_schema(request=s.UseSerializer, responses={201: s.ArticleUseSerializer})
    @route(detail=True, methods=['post'], permission_action='view', filter_backends=[])
    def uses(self, request, number=None):
        """Record that the article helped resolve an incident ("used to resolve")."""
        from incidents.models import Ticket

        article = self.get_object()
        self.require('add_articleuse')
        payload = s.UseSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        number_given = payload.validated_data['incident'].strip().upper()
        incident = Ticket.objects.filter(number=number_given).first()
        if incident is None:
            raise exceptions.ValidationError({'incident': [f'No incident {number_given}.']})
        use = services().article_use(article=article, incident=incident, actor=self.actor())
        use = type(use).objects.select_related('article', 'incident', 'used_by').get(pk=use.pk)
        return Response(s.ArticleUseSerializer(use).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=s.DeflectSerializer, responses={201: s.DeflectionSerializer})
    @route(detail=True, methods=['post'], permission_action='view', filter_backends=[])
    def deflections(self, request, number=None):
        """ "This solved it": the requester's report ends here, counted as a deflection."""
        article = self.get_object()
        self.require('add_deflection')
        payload = s.DeflectSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        deflection = services().deflect(article=article, actor=self.actor(), **payload.validated_data)
        deflection = type(deflection).objects.select_related('article', 'requester').get(pk=deflection.pk)
        return Response(s.DeflectionSerializer(deflection).data, status=status.HTTP_201_CREATED)

    # -- search and known errors
    @extend_schema(
        parameters=SEARCH_PARAMETERS,
        responses=inline_serializer(
            'ArticleSearchResult',
            {'count': serializers.IntegerField(), 'results': s.SearchHitSerializer(many=True)},
        ),
    )
    @route(detail=False, methods=['get'], permission_action='view', filter_backends=[], pagination_class=None)
    def search(self, request):
        """Ranked full-text search over the articles the caller may read, with highlighted snippets."""
        from ..search import search_articles

        query = s.SearchQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        service = (data.get('service') or '').strip().upper() or None
        result = search_articles(
            data['q'],
            user=request.user,
            article_type=data.get('type') or None,
            service=service,
            audience=data.get('audience') or None,
            limit=data['limit'],
            offset=data['offset'],
        )
        hits = s.SearchHitSerializer(result.hits, many=True, context=self.get_serializer_context()).data
        return Response({'count': result.total, 'results': hits})

    @extend_schema(request=s.FromKnownErrorSerializer, responses={201: s.ArticleSerializer})
    @route(detail=False, methods=['post'], url_path='from-known-error', permission_action='add', filter_backends=[])
    def from_known_error(self, request):
        """Publish a known error's workaround as an article in one action (a draft, linked both ways)."""
        from problems.models import KnownError

        payload = s.FromKnownErrorSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        number_given = payload.validated_data['known_error'].strip().upper()
        known_error = find_record(KnownError.objects.all(), number_given)
        article = services().article_from_known_error(known_error=known_error, actor=self.actor())
        return Response(
            s.ArticleSerializer(self.reload(article), context=self.get_serializer_context()).data,
            status=status.HTTP_201_CREATED,
        )
