"""The tickets behind a figure: every number on the dashboards links here with its measure, part and slice.

Ticket-counted measures list tickets (through `incidents.selectors.ticket_list()`); SLA, OLA and answer-rate
figures count clocks, so their list shows the clocks with their tickets, one row per target counted.
"""

from __future__ import annotations

from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import render
from django.views import View

from .. import exports, selectors
from ..measures import MEASURES
from .common import can_see_slice, guard, slice_from_request

__all__ = ['DrillDownView']


class DrillDownView(LoginRequiredMixin, View):
    paginate_by = 50

    def get(self, request):
        slug = request.GET.get('measure', '')
        if slug not in MEASURES:
            raise Http404(f'No measure "{slug}".')
        measure = MEASURES[slug]
        slice_, errors = slice_from_request(request)
        guard(can_see_slice(request.user, slice_))
        part = request.GET.get('part', '')
        if part and part not in measure.parts and not (slug == 'backlog' and part in _bucket_keys()):
            raise Http404(f'No part "{part}" of {measure.label}.')
        agreement = request.GET.get('agreement', '')
        agreement_id = 0 if agreement == 'none' else int(agreement) if agreement.isdigit() else None
        clocks = slug in selectors.CLOCK_MEASURES
        if clocks:
            rows = selectors.clocks_behind(slug, slice_, part=part, agreement=agreement_id, user=request.user)
        else:
            rows = selectors.tickets_behind(slug, slice_, part=part, user=request.user)
        if request.GET.get('format') == 'csv':
            text = exports.clocks_csv(rows) if clocks else exports.tickets_csv(rows)
            return exports.csv_response(text, f'{slug}-{part or "all"}-{slice_.start:%Y%m%d}-{slice_.end:%Y%m%d}.csv')
        page = Paginator(rows, self.paginate_by).get_page(request.GET.get('page'))
        part_label = measure.parts.get(part) or next((b.label for b in selectors.AGE_BUCKETS if b.key == part), '')
        context = {
            'title': f'{measure.label}: {"SLA targets" if clocks else "tickets"} behind the figure',
            'measure': measure,
            'part': part,
            'part_label': part_label,
            'slice': slice_,
            'errors': errors,
            'clocks': clocks,
            'page_obj': page,
            'rows': page.object_list,
            'filters': _described_filters(slice_),
            'csv_query': {**request.GET.dict(), 'format': 'csv'},
            'agreement': agreement,
        }
        return render(request, 'reports/drilldown.html', context)


def _bucket_keys() -> set[str]:
    return {b.key for b in selectors.AGE_BUCKETS}


def _described_filters(slice_) -> list[tuple[str, str]]:
    """The slice's filters as (name, value label) pairs for the page header."""
    described = []
    for dimension, value in slice_.filters().items():
        if dimension == 'priority':
            described.append(('Priority', ', '.join(f'P{p}' for p in value)))
            continue
        key = '' if value == 0 else str(value)
        label = selectors.key_labels(dimension, [key])[key]
        described.append((dimension.capitalize(), label))
    return described
