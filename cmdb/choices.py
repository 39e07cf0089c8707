"""Choices of the CMDB: CI classes, lifecycle, environments, services, RACI and relationship types."""

from django.db import models


class CIClass(models.TextChoices):
    """What a configuration item is. Class-specific attributes are described in `cmdb.schema`."""

    SERVER = 'server', 'Server'
    VIRTUAL_MACHINE = 'virtual_machine', 'Virtual machine'
    WORKSTATION = 'workstation', 'Workstation'
    APPLICATION = 'application', 'Application'
    DATABASE = 'database', 'Database'
    NETWORK_DEVICE = 'network_device', 'Network device'
    NETWORK_SEGMENT = 'network_segment', 'Network segment'
    STORAGE = 'storage', 'Storage'
    SERVICE = 'service', 'Service'
    DOCUMENT = 'document', 'Document'


class CIStatus(models.TextChoices):
    PROPOSED = 'proposed', 'Proposed'
    ORDERED = 'ordered', 'Ordered'
    INSTALLED = 'installed', 'Installed'
    IN_PRODUCTION = 'in_production', 'In production'
    MAINTENANCE = 'maintenance', 'Maintenance'
    RETIRED = 'retired', 'Retired'


class Environment(models.TextChoices):
    PRODUCTION = 'production', 'Production'
    STAGING = 'staging', 'Staging'
    TEST = 'test', 'Test'
    DEVELOPMENT = 'development', 'Development'


class ServiceKind(models.TextChoices):
    BUSINESS = 'business', 'Business service'
    TECHNICAL = 'technical', 'Technical service'


class ServiceStatus(models.TextChoices):
    OPERATIONAL = 'operational', 'Operational'
    DEGRADED = 'degraded', 'Degraded performance'
    PARTIAL_OUTAGE = 'partial_outage', 'Partial outage'
    MAJOR_OUTAGE = 'major_outage', 'Major outage'
    MAINTENANCE = 'maintenance', 'Under maintenance'


class Criticality(models.TextChoices):
    CRITICAL = 'critical', 'Critical'
    HIGH = 'high', 'High'
    MEDIUM = 'medium', 'Medium'
    LOW = 'low', 'Low'


# Most critical first: how suggestions and impact lists rank services.
CRITICALITY_RANK = {Criticality.CRITICAL: 0, Criticality.HIGH: 1, Criticality.MEDIUM: 2, Criticality.LOW: 3}


class RaciActivity(models.TextChoices):
    """Service activities a RACI matrix assigns."""

    INCIDENT_RESOLUTION = 'incident_resolution', 'Incident resolution'
    MAJOR_INCIDENT = 'major_incident', 'Major incident response'
    PROBLEM_MANAGEMENT = 'problem_management', 'Problem management'
    CHANGE_APPROVAL = 'change_approval', 'Change approval'
    RELEASE = 'release', 'Release and deployment'
    COMMUNICATIONS = 'communications', 'Communications'
    SERVICE_REQUESTS = 'service_requests', 'Service request fulfilment'
    SERVICE_REVIEW = 'service_review', 'Service level review'


class RaciRole(models.TextChoices):
    RESPONSIBLE = 'R', 'Responsible'
    ACCOUNTABLE = 'A', 'Accountable'
    CONSULTED = 'C', 'Consulted'
    INFORMED = 'I', 'Informed'


class RelationshipType(models.TextChoices):
    """Typed, directed links. Every type makes its source depend on its target."""

    DEPENDS_ON = 'depends_on', 'depends on'
    RUNS_ON = 'runs_on', 'runs on'
    INSTALLED_ON = 'installed_on', 'is installed on'
    CONNECTED_TO = 'connected_to', 'is connected to'
    MEMBER_OF = 'member_of', 'is a member of'
    BACKED_UP_BY = 'backed_up_by', 'is backed up by'


class ImpactDirection(models.TextChoices):
    DOWNSTREAM = 'downstream', 'Downstream: what depends on it'
    UPSTREAM = 'upstream', 'Upstream: what it depends on'


# Badge colours (Tabler) for statuses; the dependency map uses the same ones.
CI_STATUS_COLORS = {
    CIStatus.PROPOSED: 'secondary',
    CIStatus.ORDERED: 'cyan',
    CIStatus.INSTALLED: 'blue',
    CIStatus.IN_PRODUCTION: 'green',
    CIStatus.MAINTENANCE: 'yellow',
    CIStatus.RETIRED: 'dark',
}
SERVICE_STATUS_COLORS = {
    ServiceStatus.OPERATIONAL: 'green',
    ServiceStatus.DEGRADED: 'yellow',
    ServiceStatus.PARTIAL_OUTAGE: 'orange',
    ServiceStatus.MAJOR_OUTAGE: 'red',
    ServiceStatus.MAINTENANCE: 'blue',
}
ENVIRONMENT_COLORS = {
    Environment.PRODUCTION: 'red',
    Environment.STAGING: 'orange',
    Environment.TEST: 'azure',
    Environment.DEVELOPMENT: 'secondary',
}
CRITICALITY_COLORS = {
    Criticality.CRITICAL: 'red',
    Criticality.HIGH: 'orange',
    Criticality.MEDIUM: 'yellow',
    Criticality.LOW: 'secondary',
}
