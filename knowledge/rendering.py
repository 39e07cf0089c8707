"""Article Markdown to safe HTML: Python-Markdown renders it, nh3 keeps only an explicit allow-list.

Whatever a writer types (raw HTML included) ends up as inert markup: no script, style, iframe or form, no event
handler or style attributes, and links and images only to http(s), mailto or relative URLs (attachments and
`/media/` images). Links get `rel="noopener noreferrer nofollow"`.
"""

from __future__ import annotations

import markdown
import nh3
from django.utils.safestring import SafeString, mark_safe

EXTENSIONS = ['extra', 'sane_lists']
TAGS = {
    'a',
    'abbr',
    'b',
    'blockquote',
    'br',
    'code',
    'dd',
    'del',
    'div',
    'dl',
    'dt',
    'em',
    'h1',
    'h2',
    'h3',
    'h4',
    'h5',
    'h6',
    'hr',
    'i',
    'img',
    'ins',
    'kbd',
    'li',
    'mark',
    'ol',
    'p',
    'pre',
    's',
    'span',
    'strong',
    'sub',
    'sup',
    'table',
    'tbody',
    'td',
    'tfoot',
    'th',
    'thead',
    'tr',
    'ul',
}
ATTRIBUTES = {
    'a': {'href', 'title'},
    'abbr': {'title'},
    'img': {'src', 'alt', 'title', 'width', 'height'},
    'td': {'align', 'colspan', 'rowspan'},
    'th': {'align', 'colspan', 'rowspan'},
    'ol': {'start'},
    # Fenced code marks its language as a class; footnotes and headings use ids (nh3 never lets `class` carry
    # anything but text, and ids cannot run code).
    'code': {'class'},
    'div': {'class'},
    'sup': {'id'},
    'li': {'id'},
    'h1': {'id'},
    'h2': {'id'},
    'h3': {'id'},
    'h4': {'id'},
}
URL_SCHEMES = {'http', 'https', 'mailto'}  # relative URLs (no scheme) always pass
LINK_REL = 'noopener noreferrer nofollow'


def sanitise(html: str) -> str:
    """Keep only the allow-listed tags, attributes and URL schemes; drop script and style with their content."""
    return nh3.clean(
        html,
        tags=TAGS,
        attributes=ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel=LINK_REL,
        clean_content_tags={'script', 'style', 'iframe', 'object', 'embed', 'template', 'noscript', 'textarea'},
        strip_comments=True,
    )


def render_markdown(text: str) -> SafeString:
    """The article body as HTML safe to put in a page (it is sanitised here, so marking it safe is sound)."""
    html = markdown.markdown(text or '', extensions=EXTENSIONS, output_format='html')
    return mark_safe(sanitise(html))  # noqa: S308 - sanitised by nh3 with an allow-list just above
