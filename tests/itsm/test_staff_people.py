"""Who can be given work (`itsm.forms.staff_people`): the assignee lists of the queue's bulk form and the pickers."""

from itsm.choices import Role
from itsm.forms import staff_people
from tests.base import ItsmTestCase
from tests.factories import SupportGroupFactory, make_user


class StaffPeopleTests(ItsmTestCase):
    def test_active_members_of_active_groups_once_each_in_name_order(self):
        zoe = make_user(Role.SERVICE_DESK_AGENT, first_name='Zoe', last_name='Adams')
        amy = make_user(Role.L2_ENGINEER, first_name='Amy', last_name='Brown')
        gone = make_user(Role.SERVICE_DESK_AGENT, first_name='Gil', last_name='Gone', is_active=False)
        retired_only = make_user(Role.SERVICE_DESK_AGENT, first_name='Rita', last_name='Retired')
        outsider = make_user(Role.SERVICE_DESK_AGENT, first_name='Olga', last_name='Outside')
        SupportGroupFactory(members=[zoe, amy, gone])
        SupportGroupFactory(members=[zoe])  # in two groups: listed once
        SupportGroupFactory(members=[retired_only, amy], active=False)
        people = list(staff_people())
        self.assertEqual(people, [amy, zoe])
        self.assertNotIn(outsider, people)
        with self.assertNumQueries(1):
            list(staff_people())
