"""Article Markdown renders to HTML that cannot run anything: XSS payloads in every form come out inert."""

from __future__ import annotations

import pytest
from django.utils.safestring import SafeString

from knowledge.rendering import render_markdown


def test_markdown_renders_with_tables_code_and_lists():
    html = render_markdown(
        '## Steps\n\n1. Open **Settings**\n2. Choose *VPN*\n\n| Field | Value |\n|---|---|\n| Port | 443 |\n\n'
        '```bash\nsudo systemctl restart vpn\n```\n'
    )
    assert isinstance(html, SafeString)
    assert '<h2>Steps</h2>' in html
    assert '<ol>\n<li>Open <strong>Settings</strong></li>' in html
    assert '<td>443</td>' in html
    assert '<code class="language-bash">sudo systemctl restart vpn\n</code>' in html


def test_images_inline_and_links_get_a_safe_rel():
    html = render_markdown('![Screen](/media/kb/screen.png) [Guide](https://example.org/guide) [Mail](mailto:a@b.c)')
    assert '<img alt="Screen" src="/media/kb/screen.png">' in html
    assert '<a href="https://example.org/guide" rel="noopener noreferrer nofollow">Guide</a>' in html
    assert 'href="mailto:a@b.c"' in html


def test_relative_links_to_attachments_work():
    html = render_markdown('[Form](/attachments/12/form.pdf) and [next](../KB0001002/)')
    assert 'href="/attachments/12/form.pdf"' in html and 'href="../KB0001002/"' in html


@pytest.mark.parametrize(
    'payload',
    [
        '<script>alert(1)</script>',
        '<img src=x onerror=alert(1)>',
        '[x](javascript:alert(1))',
        '[x](JaVaScRiPt:alert(1))',
        '[x](&#106;avascript:alert(1))',
        '[x](java&#x09;script:alert(1))',
        '<svg onload=alert(1)><circle/></svg>',
        '<iframe src="https://evil.example"></iframe>',
        '<a href="data:text/html,<script>alert(1)</script>">d</a>',
        '![x](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)',
        '<p style="background:url(javascript:alert(1))">s</p>',
        '<div onclick="alert(1)">click</div>',
        '<a href="vbscript:msgbox(1)">v</a>',
        '<object data="x.swf"></object><embed src="x.swf">',
        '<form action="/x"><input name=a><button>go</button></form>',
        '<style>body{display:none}</style>',
        '<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>',
        '<<script>script>alert(1)<</script>/script>',
        '<a href="  javascript:alert(1)">sp</a>',
        '<base href="https://evil.example/">',
        '<meta http-equiv="refresh" content="0;url=https://evil.example">',
    ],
)
def test_xss_payloads_render_inert(payload):
    html = render_markdown(f'Before\n\n{payload}\n\nAfter').lower()
    for danger in (
        '<script',
        '<iframe',
        '<svg',
        '<object',
        '<embed',
        '<form',
        '<style',
        '<base',
        '<meta',
        '<math',
        'onerror',
        'onload',
        'onclick',
        'style=',
        'javascript:',
        'vbscript:',
        'data:',
    ):
        assert danger not in html, f'{danger!r} survived in {html!r}'
    assert 'before' in html  # the text around it survives (an unclosed <style> may swallow what follows)


def test_text_that_looks_like_html_in_code_stays_text():
    html = render_markdown('Type `<script>` literally:\n\n    <img src=x onerror=alert(1)>\n')
    assert '<code>&lt;script&gt;</code>' in html
    assert '&lt;img src=x onerror=alert(1)&gt;' in html


def test_empty_text_renders_empty():
    assert render_markdown('') == '' and render_markdown(None) == ''
