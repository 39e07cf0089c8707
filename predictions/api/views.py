"""`/api/v1/duration-profiles/`: the duration profiles predictions are read from (staff, read only)."""

from rest_framework import viewsets

from ..filters import DurationProfileFilterSet
from ..models import DurationProfile
from ..selectors import profile_list
from .serializers import DurationProfileSerializer


class DurationProfileViewSet(viewsets.ReadOnlyModelViewSet):
    """Profiles of the last rebuild: `?level=`, `?kind=`, `?priority=`; `?category=`, `?service=`,
    `?assignment_group=` by id."""

    queryset = DurationProfile.objects.none()
    serializer_class = DurationProfileSerializer
    filterset_class = DurationProfileFilterSet

    def get_queryset(self):
        return profile_list()
