"""Forms of the knowledge pages: they validate and shape input; `knowledge.services` writes."""

from __future__ import annotations

from typing import Any

from django import forms
from django.urls import reverse

from cmdb.models import ConfigurationItem
from incidents.models import Category
from itsm.forms import ActionForm
from itsm.models import User
from problems.forms import ConfigurationItemsField, ServicesField

from .actions import WRITER_ROLES
from .models import Article

# What the form calls `short_description`: the services take it as `title`.
RENAMED = {'short_description': 'title'}


def article_owners():
    """People who may keep an article right: the desk, problem and knowledge managers."""
    return (
        User.objects.filter(is_active=True, groups__name__in=[str(role) for role in WRITER_ROLES])
        .distinct()
        .order_by('last_name', 'first_name', 'username')
    )


class CategoryField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return f'{obj.parent.name} › {obj.name}' if obj.parent_id else obj.name


class MarkdownTextarea(forms.Textarea):
    """The body's textarea; its "Preview" button (in the form's template) renders it through `article_preview`."""

    def __init__(self, attrs=None):
        defaults = {'rows': 16, 'class': 'pc-markdown', 'spellcheck': 'true'}
        super().__init__({**defaults, **(attrs or {})})


class ArticleForm(forms.ModelForm):
    """Write an article: what it is called and says, who reads it, who keeps it, what it is about."""

    wide_fields = ('short_description', 'summary', 'body')

    owner = forms.ModelChoiceField(queryset=User.objects.none(), required=False, empty_label='— nobody yet —')
    services = ServicesField(queryset=ConfigurationItem.objects.none(), required=False)
    cis = ConfigurationItemsField(label='Configuration items')
    categories = CategoryField(queryset=Category.objects.none(), required=False)

    class Meta:
        model = Article
        fields = [
            'short_description',
            'article_type',
            'audience',
            'summary',
            'body',
            'owner',
            'review_by',
            'services',
            'cis',
            'categories',
        ]
        labels = {'short_description': 'Title', 'review_by': 'Review by'}
        widgets = {
            'short_description': forms.TextInput(attrs={'autocomplete': 'off'}),
            'summary': forms.TextInput(attrs={'autocomplete': 'off'}),
            'body': MarkdownTextarea(),
            'review_by': forms.DateInput(attrs={'type': 'date'}, format='%Y-%m-%d'),
        }
        error_messages = {
            'short_description': {'required': 'Give the article a title.'},
            'body': {'required': 'Write the article: the body is empty.'},
        }
        help_texts = {'body': 'Markdown: headings, lists, code, links and images. Use "Preview" to check it.'}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields['owner'].queryset = article_owners()
        self.fields['services'].queryset = ConfigurationItem.objects.services().order_by('name')
        self.fields['categories'].queryset = (
            Category.objects.filter(active=True).select_related('parent').order_by('parent__name', 'name')
        )
        self.fields['body'].widget.attrs['data-preview-url'] = reverse('knowledge:article_preview')
        if self.instance.pk and not self.is_bound:
            self.initial['cis'] = list(self.instance.cis.all())

    def clean_short_description(self):
        title = self.cleaned_data['short_description'].strip()
        if not title:
            raise forms.ValidationError('Give the article a title.', code='required')
        return title

    def clean_body(self):
        body = self.cleaned_data['body']
        if not body.strip():
            raise forms.ValidationError('Write the article: the body is empty.', code='required')
        return body

    def service_fields(self) -> dict[str, Any]:
        return {RENAMED.get(name, name): self.cleaned_data[name] for name in self.Meta.fields}


class ArticleEditForm(ArticleForm):
    """The working copy's fields; readers keep the published version until the next one is published."""


class PreviewForm(forms.Form):
    body = forms.CharField(required=False, max_length=200_000, strip=False)


# -------------------------------------------------------------------------------------------------- actions
class PublishForm(ActionForm):
    change_note = forms.CharField(
        required=False,
        max_length=300,
        label='Change note',
        help_text='What changed in this version, for the version history.',
    )


class VoteForm(ActionForm):
    """Helpful or not (two buttons on the article page), with an optional comment."""

    wide_fields = ('comment',)

    helpful = forms.TypedChoiceField(
        choices=[('yes', 'Helpful'), ('no', 'Not helpful')],
        coerce=lambda value: value == 'yes',
        widget=forms.RadioSelect,
        label='Was it helpful?',
        error_messages={'required': 'Say whether the article helped.'},
    )
    comment = forms.CharField(required=False, max_length=500, widget=forms.Textarea(attrs={'rows': 2}), label='Comment')
