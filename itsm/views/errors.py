"""Error pages: HTML for people, JSON under /api/ so API clients never get an HTML page."""

from django.http import HttpResponseServerError, JsonResponse
from django.shortcuts import render
from django.template import loader

from itsm.api.errors import api_not_found, api_server_error


def _is_api(request) -> bool:
    return request.path.startswith('/api/')


def bad_request(request, reason: str, code: str = 'bad_request'):
    """A 400 that says why: JSON under /api/, a page otherwise."""
    if _is_api(request):
        return JsonResponse({'detail': reason, 'code': code}, status=400)
    return render(request, 'errors/400.html', {'reason': reason}, status=400)


def permission_denied(request, exception=None):
    if _is_api(request):
        return JsonResponse(
            {'detail': 'You do not have permission to do that.', 'code': 'permission_denied'}, status=403
        )
    return render(request, 'errors/403.html', status=403)


def page_not_found(request, exception=None):
    if _is_api(request):
        return api_not_found(request, exception)
    return render(request, 'errors/404.html', status=404)


def server_error(request):
    if _is_api(request):
        return api_server_error(request)
    # No context processors: the failure may be in one of them.
    return HttpResponseServerError(loader.get_template('errors/500.html').render())
