"""Django's template backend, with each rendering's context released when the rendering ends.

Every dict pushed on a template `Context` points back at it (`ContextDict.context`), so a rendered page's context
is a reference cycle: everything in it (the page's rows, their references and clocks, the filter forms) outlives
the request until the cyclic garbage collector finds it. A list page leaves a few thousand such objects behind,
and every dozen requests one of them pays for a collection over all of them (15-20 ms). Emptying the context
after rendering lets reference counting free them at once. Copies of the context taken while rendering (the test
client's `response.context`) keep their own list of dicts and are not affected.
"""

from __future__ import annotations

from django.template import TemplateDoesNotExist
from django.template.backends.django import DjangoTemplates, Template, reraise
from django.template.context import make_context


class ReleasingTemplate(Template):
    def render(self, context=None, request=None):
        context = make_context(context, request, autoescape=self.backend.engine.autoescape)
        try:
            return self.template.render(context)
        except TemplateDoesNotExist as exc:
            reraise(exc, self.backend)
        finally:
            context.dicts = []
            context.render_context.dicts = []


class ReleasingDjangoTemplates(DjangoTemplates):
    def from_string(self, template_code):
        return ReleasingTemplate(self.engine.from_string(template_code), self)

    def get_template(self, template_name):
        try:
            return ReleasingTemplate(self.engine.get_template(template_name), self)
        except TemplateDoesNotExist as exc:
            reraise(exc, self)
