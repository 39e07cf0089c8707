"""Files on process records: downloads for the people who may see the record (requesters: its public files)."""

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404

from ..models import Attachment
from ..permissions import user_can


@login_required
def attachment_download(request, pk: int):
    attachment = get_object_or_404(Attachment.objects.select_related('content_type'), pk=pk)
    model = attachment.content_type.model_class()
    user = request.user
    records = model._default_manager.visible_to(user).filter(pk=attachment.object_id)
    staff = not user.is_requester_only and user_can(user, model, 'view')
    if not (staff or attachment.public) or not records.exists():
        raise Http404('No such file.')
    try:
        handle = attachment.file.open('rb')
    except (FileNotFoundError, ValueError):
        raise Http404('The file is missing from storage.') from None
    response = FileResponse(handle, as_attachment=True, filename=attachment.filename, content_type=attachment.mime_type)
    response['X-Content-Type-Options'] = 'nosniff'
    return response
