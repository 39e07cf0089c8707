"""Slices, periods, rollup dimensions and report frequencies."""

from django.db import models


class Interval(models.TextChoices):
    """How a trend is bucketed. Weeks start on Monday; days, weeks and months are local to TIME_ZONE."""

    DAY = 'day', 'Day'
    WEEK = 'week', 'Week'
    MONTH = 'month', 'Month'


class Dimension(models.TextChoices):
    """What a rollup row is keyed on besides day, ticket kind and priority.

    Each row aggregates the tickets of one day, kind and priority that share one value of one dimension, so a
    filter or breakdown on priority plus (at most) one other dimension reads only that dimension's rows.
    `group_agent` rows pair the two (key `group:agent`), so a team dashboard's per-agent table reads rollups too.
    `day` rows mark a day as rolled up (they exist even for a day without tickets).
    """

    ALL = 'all', 'All tickets'
    GROUP = 'group', 'Group'
    SERVICE = 'service', 'Service'
    CATEGORY = 'category', 'Category'
    CHANNEL = 'channel', 'Channel'
    AGENT = 'agent', 'Agent'
    AGREEMENT = 'agreement', 'SLA'
    GROUP_AGENT = 'group_agent', 'Group and agent'
    DAY = 'day', 'Day marker'


class RollupPeriod(models.TextChoices):
    """The periods daily rollup rows are also summed over."""

    WEEK = 'week', 'Week'
    MONTH = 'month', 'Month'


class Breakdown(models.TextChoices):
    """What a table or chart can be broken down by."""

    PRIORITY = 'priority', 'Priority'
    KIND = 'kind', 'Ticket kind'
    GROUP = 'group', 'Group'
    SERVICE = 'service', 'Service'
    CATEGORY = 'category', 'Category'
    CHANNEL = 'channel', 'Channel'
    AGENT = 'agent', 'Agent'


class Source(models.TextChoices):
    """Where figures come from: the daily rollups, the tickets themselves, or the rollups when they can answer."""

    AUTO = 'auto', 'Automatic'
    ROLLUP = 'rollup', 'Daily rollups'
    LIVE = 'live', 'Live tickets'


class Frequency(models.TextChoices):
    DAILY = 'daily', 'Daily (the previous day)'
    WEEKLY = 'weekly', 'Weekly (the previous Monday to Sunday)'
    MONTHLY = 'monthly', 'Monthly (the previous calendar month)'


# The interval a report's trend uses for each frequency.
FREQUENCY_INTERVAL = {Frequency.DAILY: Interval.DAY, Frequency.WEEKLY: Interval.DAY, Frequency.MONTHLY: Interval.WEEK}
