"""Choices shared by every process app."""

from django.db import models


class Channel(models.TextChoices):
    """How an action reached Pitcrew; recorded on every timeline entry."""

    UI = 'ui', 'Web UI'
    API = 'api', 'API'
    EMAIL = 'email', 'E-mail'
    MONITORING = 'monitoring', 'Monitoring'
    SYSTEM = 'system', 'System job'


class Tier(models.TextChoices):
    L1 = 'L1', 'L1 – service desk'
    L2 = 'L2', 'L2 – technical support'
    L3 = 'L3', 'L3 – experts and on-call'
    OTHER = 'other', 'Other'


class Role(models.TextChoices):
    """Roles of domain §14. Each is a Django auth group whose name is the slug."""

    REQUESTER = 'requester', 'Requester'
    SERVICE_DESK_AGENT = 'service_desk_agent', 'Service desk agent (L1)'
    L2_ENGINEER = 'l2_engineer', 'L2 engineer'
    L3_ENGINEER = 'l3_engineer', 'L3 engineer'
    INCIDENT_MANAGER = 'incident_manager', 'Incident manager'
    PROBLEM_MANAGER = 'problem_manager', 'Problem manager'
    CHANGE_MANAGER = 'change_manager', 'Change manager'
    CAB_MEMBER = 'cab_member', 'CAB member'
    SERVICE_OWNER = 'service_owner', 'Service owner'
    BUSINESS_OWNER = 'business_owner', 'Business owner'
    KNOWLEDGE_MANAGER = 'knowledge_manager', 'Knowledge manager'
    MANAGER = 'manager', 'Manager (reports)'
    ADMINISTRATOR = 'administrator', 'Administrator'
    INTEGRATION = 'integration', 'Integration (API client)'


class Attention(models.TextChoices):
    """Why a record needs its agent's eye again; shown in the queues until someone working it opens it."""

    NONE = '', 'Nothing new'
    CUSTOMER_REPLIED = 'customer_replied', 'Customer replied'
    REOPENED = 'reopened', 'Reopened'


class TimelineKind(models.TextChoices):
    CREATED = 'created', 'Created'
    TRANSITION = 'transition', 'State change'
    FIELD_CHANGE = 'field_change', 'Field change'
    COMMENT = 'comment', 'Comment'
    WORK_NOTE = 'work_note', 'Work note'
    NOTIFICATION = 'notification', 'Notification'
    ATTACHMENT = 'attachment', 'Attachment'
    LINK = 'link', 'Link'
    DELETED = 'deleted', 'Deleted'
    SLA_WARNING = 'sla_warning', 'SLA warning'
    SLA_BREACH = 'sla_breach', 'SLA breach'
    SLA_RETARGET = 'sla_retarget', 'SLA re-targeted'
    IMPORT = 'import', 'Imported event'


class Impact(models.TextChoices):
    """How widely a disruption reaches (domain §3). Order matters: index 0 is the most severe."""

    SEVERE = 'severe', 'Severe – whole company or many sites'
    HIGH = 'high', 'High – business units or sites'
    MEDIUM = 'medium', 'Medium – workgroups or departments'
    LOW = 'low', 'Low – one person'
    NONE = 'none', 'None'


class Urgency(models.TextChoices):
    """How soon the business needs it back (domain §3). Index 0 is the most urgent."""

    IMMEDIATE = 'immediate', 'Immediate'
    CRITICAL = 'critical', 'Critical'
    URGENT = 'urgent', 'Urgent'
    NORMAL = 'normal', 'Normal'
    NEGOTIATED = 'negotiated', 'Negotiated'


class Priority(models.IntegerChoices):
    P0 = 0, 'P0'
    P1 = 1, 'P1'
    P2 = 2, 'P2'
    P3 = 3, 'P3'
    P4 = 4, 'P4'


# What each priority means to the desk (domain §3), shown next to priority badges.
PRIORITY_MEANINGS = {
    0: 'Critical: the whole company or many sites',
    1: 'High: business units or sites, major impact',
    2: 'Medium: workgroups slowed, no acceptable workaround',
    3: 'Low: one person, day-to-day problem',
    4: 'Planning: requests, advice, agreed downgrades',
}


class TicketKind(models.TextChoices):
    INCIDENT = 'incident', 'Incident'
    CASE = 'case', 'Case'
