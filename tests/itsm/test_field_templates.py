"""`FieldsBuiltOnceMixin`: a serializer class reads its model once; each instance still gets fields of its own."""

from unittest import mock

from django.test import TestCase
from rest_framework import serializers

from incidents.api.serializers import TicketSerializer
from itsm.choices import Role
from tests.factories import make_user


def fresh_class():
    """A subclass of its own, so its template is built in the test whatever ran before in this process."""
    return type('ProbeTicketSerializer', (TicketSerializer,), {})


class FieldTemplateTests(TestCase):
    def test_the_model_is_read_for_the_first_instance_of_a_class_only(self):
        probe = fresh_class()
        model_serializer = serializers.ModelSerializer
        build_field = model_serializer.build_field
        with mock.patch.object(model_serializer, 'build_field', autospec=True, side_effect=build_field) as build:
            first = set(probe().fields)
            built_first = build.call_count
            second = set(probe().fields)
        self.assertGreater(built_first, 10)
        self.assertEqual(build.call_count, built_first)  # nothing built for the second
        self.assertEqual(first, second)
        self.assertEqual(first, set(TicketSerializer().fields))

    def test_each_instance_binds_fields_of_its_own_and_the_template_stays_unbound(self):
        probe = fresh_class()
        one, two = probe(), probe()
        for name in ('short_description', 'caller', 'impact', 'url', 'sla'):
            with self.subTest(name=name):
                self.assertIsNot(one.fields[name], two.fields[name])
                self.assertIs(one.fields[name].parent, one)
                self.assertIs(two.fields[name].parent, two)
                self.assertEqual(one.fields[name].field_name, name)
                self.assertIsNone(probe._field_template[name].parent)
                self.assertIsNone(probe._field_template[name].field_name)
        # A field holding a serializer is copied whole: its child belongs to it alone.
        self.assertIsNot(one.fields['sla'].child, two.fields['sla'].child)
        self.assertIs(one.fields['sla'].child.parent, one.fields['sla'])

    def test_a_change_to_one_instances_field_is_not_seen_by_another(self):
        probe = fresh_class()
        one = probe()
        one.fields['short_description'].read_only = True
        one.fields['impact'].choices = [('low', 'Low')]
        two = probe()
        self.assertFalse(two.fields['short_description'].read_only)
        self.assertIn('high', two.fields['impact'].choices)

    def test_instances_validate_on_their_own(self):
        caller = make_user(Role.REQUESTER, username='caller.one')
        probe = fresh_class()
        bad = probe(data={'short_description': '', 'caller': 'nobody', 'impact': 'huge'})
        good = probe(data={'short_description': 'Printer jammed', 'caller': caller.username, 'impact': 'low'})
        self.assertFalse(bad.is_valid())
        self.assertTrue(good.is_valid(), good.errors)
        self.assertEqual(set(bad.errors), {'short_description', 'caller', 'impact'})
        self.assertEqual(good.validated_data['caller'], caller)
        self.assertEqual(good.errors, {})
