"""Docs as code: import a folder of Markdown files with front matter as knowledge articles.

Each `*.md` file under the folder (recursively, in path order) becomes one article. Its front matter, YAML between
two `---` lines at the top, gives the title, type, audience, services, CIs, categories, owner, review date and
summary; the rest of the file is the body. An article remembers the file it came from (its path relative to the
folder) and a digest of the file's bytes, so running the import again skips unchanged files and updates the working
copy of changed ones (a published article gets a new version, published again when asked). Every change goes
through the knowledge services, so the timeline, versions and search index stay as the desk would leave them.

A file that cannot be read (bad UTF-8 or YAML, an unknown type, service, CI, category or owner, no title) is reported
with its reason; the others still import, each file in its own transaction.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q

from itsm.audit import Actor
from itsm.errors import ApplicationError

from .choices import ArticleState, ArticleType, Audience

# Front matter keys the importer understands; any other key is reported as a warning and ignored.
KNOWN_KEYS = ('title', 'type', 'audience', 'public', 'services', 'cis', 'categories', 'owner', 'review_by', 'summary')
FRONT_MATTER_FENCE = re.compile(r'\A---[ \t]*\r?\n(.*?)^(?:---|\.\.\.)[ \t]*\r?$\n?', re.DOTALL | re.MULTILINE)
HEADING = re.compile(r'^#[ \t]+(.+?)[ \t#]*$', re.MULTILINE)
CATEGORY_SEPARATORS = re.compile(r'\s*(?:›|>|/)\s*')


class ImportProblem(Exception):
    """Why one file cannot be imported, said for the person who keeps the folder."""


@dataclass
class ParsedArticle:
    """A file read and checked: the values the knowledge services take, and the keys the file set."""

    title: str
    body: str
    article_type: str = ArticleType.HOW_TO
    audience: str = Audience.AGENTS
    summary: str = ''
    services: list = field(default_factory=list)
    cis: list = field(default_factory=list)
    categories: list = field(default_factory=list)
    owner: object = None
    review_by: dt.date | None = None
    given: set = field(default_factory=set)
    warnings: list = field(default_factory=list)


@dataclass
class FileOutcome:
    path: str
    result: str  # created / updated / unchanged / failed
    number: str = ''
    reason: str = ''
    warnings: list = field(default_factory=list)


@dataclass
class ImportReport:
    """What one import did, file by file; the counts are what the command's summary line says."""

    outcomes: list[FileOutcome] = field(default_factory=list)

    def _count(self, result: str) -> int:
        return sum(1 for o in self.outcomes if o.result == result)

    @property
    def created(self) -> int:
        return self._count('created')

    @property
    def updated(self) -> int:
        return self._count('updated')

    @property
    def unchanged(self) -> int:
        return self._count('unchanged')

    @property
    def failed(self) -> int:
        return self._count('failed')

    @property
    def failures(self) -> list[FileOutcome]:
        return [o for o in self.outcomes if o.result == 'failed']

    @property
    def warnings(self) -> list[tuple[str, str]]:
        return [(o.path, w) for o in self.outcomes for w in o.warnings]

    def summary(self) -> str:
        return (
            f'{len(self.outcomes)} files: {self.created} created, {self.updated} updated, '
            f'{self.unchanged} unchanged, {self.failed} failed'
        )


# Reading one file ------------------------------------------------------------------------------------------------


def split_front_matter(text: str) -> tuple[dict, str]:
    """(front matter, body) of a Markdown file; a file without front matter has an empty one."""
    match = FRONT_MATTER_FENCE.match(text)
    if match is None:
        if text.startswith('---'):
            raise ImportProblem('the front matter has no closing "---" line')
        return {}, text
    try:
        data = yaml.safe_load(match.group(1))
    except yaml.YAMLError as error:
        mark = getattr(error, 'problem_mark', None)
        where = f' (front matter line {mark.line + 1})' if mark is not None else ''
        problem = getattr(error, 'problem', None) or str(error).splitlines()[0]
        raise ImportProblem(f'the front matter is not valid YAML{where}: {problem}') from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ImportProblem('the front matter must be a list of "key: value" lines')
    return data, text[match.end() :]


def _as_list(value, key: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        value = [part for part in (p.strip() for p in value.split(',')) if part]
    if not isinstance(value, list):
        raise ImportProblem(f'"{key}" must be a name or a list of names')
    return [str(item).strip() for item in value if str(item).strip()]


def _choice(value, choices, key: str) -> str:
    """A choice by value or label, case-insensitive, with spaces, dashes and underscores alike."""

    def norm(text: str) -> str:
        return re.sub(r'[\s_-]+', '_', str(text).strip().lower())

    wanted = norm(value)
    for choice_value, label in choices.choices:
        if wanted in (norm(choice_value), norm(label)):
            return choice_value
    known = ', '.join(v for v, _ in choices.choices)
    raise ImportProblem(f'unknown {key} "{value}" (one of: {known})')


def _services(names: list[str]) -> list:
    from cmdb.models import ConfigurationItem

    found = []
    for name in names:
        matches = list(ConfigurationItem.objects.services().filter(Q(number__iexact=name) | Q(name__iexact=name)))
        if not matches:
            raise ImportProblem(f'unknown service "{name}"')
        found.append(matches[0])
    return found


def _cis(names: list[str]) -> list:
    from cmdb.models import ConfigurationItem

    found = []
    for name in names:
        matches = list(ConfigurationItem.objects.filter(Q(number__iexact=name) | Q(name__iexact=name))[:2])
        if not matches:
            raise ImportProblem(f'unknown configuration item "{name}"')
        if len(matches) > 1:
            raise ImportProblem(f'"{name}" names more than one configuration item: use its number')
        found.append(matches[0])
    return found


def _categories(names: list[str]) -> list:
    from incidents.models import Category

    found = []
    for name in names:
        parts = CATEGORY_SEPARATORS.split(name, maxsplit=1)
        if len(parts) == 2:
            matches = list(Category.objects.filter(parent__name__iexact=parts[0], name__iexact=parts[1]))
        else:
            matches = list(Category.objects.filter(name__iexact=name).select_related('parent')[:2])
        if not matches:
            raise ImportProblem(f'unknown category "{name}"')
        if len(matches) > 1:
            raise ImportProblem(f'"{name}" names more than one category: write it as "Parent / {name}"')
        found.append(matches[0])
    return found


def _owner(username):
    from itsm.models import User

    user = User.objects.filter(username=str(username).strip(), is_active=True).first()
    if user is None:
        raise ImportProblem(f'unknown owner "{username}" (a username of an active person)')
    return user


def _date(value) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise ImportProblem(f'review_by "{value}" is not a date (YYYY-MM-DD)') from None


def parse_article(raw: bytes) -> ParsedArticle:
    """Read one file's bytes into the values of an article, or raise ImportProblem saying why not."""
    try:
        text = raw.decode('utf-8-sig')
    except UnicodeDecodeError as error:
        raise ImportProblem(f'not UTF-8 text (byte {error.start} cannot be read)') from None
    data, body = split_front_matter(text)
    data = {str(k).strip().lower(): v for k, v in data.items()}
    warnings = [f'ignored unknown front matter key "{k}"' for k in data if k not in KNOWN_KEYS]

    title = str(data.get('title') or '').strip()
    if not title:
        # No title in the front matter: the first top-level heading is the title (and leaves the body).
        heading = HEADING.search(body)
        if heading is None:
            raise ImportProblem('no title: give "title:" in the front matter or start with a "# heading"')
        title = heading.group(1).strip()
        body = body[: heading.start()] + body[heading.end() :]
    body = body.strip('\n').rstrip() + '\n'
    if not body.strip():
        raise ImportProblem('the article has no body text')

    parsed = ParsedArticle(title=title, body=body, warnings=warnings)
    parsed.given = {k for k in data if k in KNOWN_KEYS}
    if data.get('type') is not None:
        parsed.article_type = _choice(data['type'], ArticleType, 'type')
    if data.get('audience') is not None:
        parsed.audience = _choice(data['audience'], Audience, 'audience')
    if data.get('public') is not None:
        if not isinstance(data['public'], bool):
            raise ImportProblem('"public" must be true or false')
        from_public = Audience.EVERYONE if data['public'] else Audience.AGENTS
        if 'audience' in data and data['audience'] is not None and from_public != parsed.audience:
            raise ImportProblem('"public" and "audience" disagree: give one of them')
        parsed.audience = from_public
    parsed.summary = ' '.join(str(data.get('summary') or '').split())
    parsed.services = _services(_as_list(data.get('services'), 'services'))
    parsed.cis = _cis(_as_list(data.get('cis'), 'cis'))
    parsed.categories = _categories(_as_list(data.get('categories'), 'categories'))
    if data.get('owner'):
        parsed.owner = _owner(data['owner'])
    if data.get('review_by'):
        parsed.review_by = _date(data['review_by'])
    return parsed


def _error_text(error: Exception) -> str:
    if isinstance(error, ValidationError):
        if hasattr(error, 'error_dict'):
            return '; '.join(f'{name}: {" ".join(messages)}' for name, messages in error.message_dict.items())
        return ' '.join(error.messages)
    if isinstance(error, ApplicationError):
        return error.detail
    return str(error)


# Importing -------------------------------------------------------------------------------------------------------


def markdown_files(folder: Path) -> list[Path]:
    """Every `*.md` file under `folder`, in path order, leaving out hidden folders and files (`.git`, …)."""
    files = []
    for path in folder.rglob('*.md'):
        relative = path.relative_to(folder)
        if path.is_file() and not any(part.startswith('.') for part in relative.parts):
            files.append(path)
    return sorted(files, key=lambda p: p.relative_to(folder).as_posix())


def _fields(parsed: ParsedArticle) -> dict:
    fields = {
        'title': parsed.title,
        'body': parsed.body,
        'summary': parsed.summary,
        'article_type': parsed.article_type,
        'audience': parsed.audience,
        'services': parsed.services,
        'cis': parsed.cis,
        'categories': parsed.categories,
    }
    # An owner or review date set on the desk stays when the file does not say.
    if 'owner' in parsed.given:
        fields['owner'] = parsed.owner
    if 'review_by' in parsed.given:
        fields['review_by'] = parsed.review_by
    return fields


def _publish(article, actor: Actor, note: str):
    from . import services

    if article.state == ArticleState.DRAFT:
        article = services.article_submit(article=article, actor=actor, note=note)
    return services.article_publish(article=article, actor=actor, change_note=note)


def _import_one(path: str, raw: bytes, digest: str, *, actor: Actor, publish: bool) -> FileOutcome:
    from . import services
    from .models import Article

    existing = Article.objects.filter(source_path=path).order_by('pk').first()
    parsed = parse_article(raw)
    note = f'Imported from {path}'
    if existing is None:
        fields = _fields(parsed)
        article = services.article_create(actor=actor, known_error=None, **fields)
        result = 'created'
    else:
        article = existing
        if article.state == ArticleState.RETIRED:
            raise ImportProblem(f'{article.number} is retired: restore it as a draft to import changes')
        if article.state == ArticleState.PUBLISHED:
            article = services.article_revise(article=article, actor=actor, note=note)
        article = services.article_update(article=article, actor=actor, **_fields(parsed))
        result = 'updated'
    if publish:
        article = _publish(article, actor, note)
    # The source is bookkeeping of the import, not a change of the article: no timeline entry.
    Article.objects.filter(pk=article.pk).update(source_path=path, source_digest=digest)
    return FileOutcome(path, result, number=article.number, warnings=parsed.warnings)


def import_folder(
    path,
    *,
    actor: Actor,
    publish: bool = False,
    progress: Callable[[int, int, str], None] | None = None,
) -> ImportReport:
    """Import every Markdown file under `path` (see the module's docstring). `progress(done, total, file)` is
    called after each file. Raises FileNotFoundError when `path` is not a folder."""
    folder = Path(path)
    if not folder.is_dir():
        raise FileNotFoundError(f'{folder} is not a folder')
    from .models import Article

    files = markdown_files(folder)
    # What earlier imports left, read once: an unchanged file costs no query, however large the folder.
    known = {
        path: (digest, number)
        for path, digest, number in Article.objects.exclude(source_path='')
        .order_by('-pk')
        .values_list('source_path', 'source_digest', 'number')
    }
    report = ImportReport()
    for done, file in enumerate(files, start=1):
        relative = file.relative_to(folder).as_posix()
        try:
            raw = file.read_bytes()
            digest = hashlib.sha256(raw).hexdigest()
            if relative in known and known[relative][0] == digest:
                outcome = FileOutcome(relative, 'unchanged', number=known[relative][1])
            else:
                with transaction.atomic():
                    outcome = _import_one(relative, raw, digest, actor=actor, publish=publish)
        except OSError as error:
            outcome = FileOutcome(relative, 'failed', reason=f'cannot be read: {error.strerror or error}')
        except (ImportProblem, ValidationError, ApplicationError) as error:
            outcome = FileOutcome(relative, 'failed', reason=_error_text(error))
        report.outcomes.append(outcome)
        if progress is not None:
            progress(done, len(files), relative)
    return report
