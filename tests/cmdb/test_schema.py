"""Class-specific attributes are validated against each class's schema: good values pass (normalised), bad
ones are refused with a 400 naming the attribute."""

import pytest
from django.core.exceptions import ValidationError

from cmdb.choices import CIClass
from cmdb.schema import ATTRIBUTES, coerce_attributes, validate_attributes
from itsm.choices import Role
from tests.base import ItsmTestCase

from .factories import REQUIRED_ATTRIBUTES, make_ci

GOOD = {
    CIClass.SERVER: {
        'hostname': 'db1.example.com',
        'ip_address': '10.1.2.3',
        'cpu_count': 32,
        'memory_gb': 256,
        'form_factor': 'rack',
        'warranty_until': '2028-06-30',
    },
    CIClass.VIRTUAL_MACHINE: {'hostname': 'vm1.example.com', 'hypervisor': 'kvm', 'memory_gb': 7.5},
    CIClass.WORKSTATION: {'hostname': 'pc-0042', 'form_factor': 'laptop', 'assigned_to': 'agent'},
    CIClass.APPLICATION: {'url': 'https://shop.example.com', 'license': 'in_house', 'user_count': 1200},
    CIClass.DATABASE: {'engine': 'postgresql', 'port': 5432, 'size_gb': 120.5, 'replicated': True},
    CIClass.NETWORK_DEVICE: {'device_type': 'firewall', 'management_ip': '2001:db8::1', 'port_count': 48},
    CIClass.NETWORK_SEGMENT: {'segment_type': 'vpn', 'cidr': '10.8.0.0/16', 'vlan_id': 300, 'carrier': 'Acme'},
    CIClass.STORAGE: {'storage_type': 'nas', 'capacity_tb': 96, 'protocol': 'nfs'},
    CIClass.SERVICE: {'service_hours': '24x7', 'portal_url': 'https://mail.example.com'},
    CIClass.DOCUMENT: {'document_type': 'runbook', 'url': 'https://wiki.example.com/r/1', 'review_by': '2027-01-01'},
}

# (class, attributes, the attribute the error names, words the error says)
BAD = [
    (CIClass.SERVER, {'hostname': 'x', 'cpu_count': 'many'}, 'cpu_count', 'whole number'),
    (CIClass.SERVER, {'hostname': 'x', 'cpu_count': 0}, 'cpu_count', 'at least 1'),
    (CIClass.SERVER, {'hostname': 'x', 'ip_address': '10.1.2.300'}, 'ip_address', 'not an IP address'),
    (CIClass.SERVER, {'hostname': 'x', 'form_factor': 'pizza'}, 'form_factor', 'not one of'),
    (CIClass.SERVER, {'hostname': 'x', 'warranty_until': '30/06/2028'}, 'warranty_until', 'not a date'),
    (CIClass.SERVER, {'cpu_count': 4}, 'hostname', 'required'),
    (CIClass.VIRTUAL_MACHINE, {'hostname': 'x', 'memory_gb': True}, 'memory_gb', 'must be a number'),
    (CIClass.WORKSTATION, {'hostname': 'x', 'form_factor': 'tower'}, 'form_factor', 'not one of'),
    (CIClass.APPLICATION, {'url': 'ftp://files'}, 'url', 'not an http(s) URL'),
    (CIClass.APPLICATION, {'colour': 'blue'}, 'colour', 'not an attribute of class application'),
    (CIClass.DATABASE, {'engine': 'postgresql', 'port': 70000}, 'port', 'at most 65535'),
    (CIClass.DATABASE, {'engine': 'postgresql', 'replicated': 'yes'}, 'replicated', 'true or false'),
    (CIClass.DATABASE, {}, 'engine', 'required'),
    (CIClass.NETWORK_DEVICE, {'device_type': 'toaster'}, 'device_type', 'not one of'),
    (CIClass.NETWORK_SEGMENT, {'segment_type': 'lan', 'cidr': '10.0.0.0/33'}, 'cidr', 'not an address range'),
    (CIClass.NETWORK_SEGMENT, {'segment_type': 'lan', 'vlan_id': 5000}, 'vlan_id', 'at most 4094'),
    (CIClass.STORAGE, {'storage_type': 'san', 'capacity_tb': -1}, 'capacity_tb', 'at least 0'),
    (CIClass.SERVICE, {'service_hours': 'sometimes'}, 'service_hours', 'not one of'),
    (CIClass.DOCUMENT, {'document_type': 'runbook'}, 'url', 'required'),
]


def test_every_class_has_a_schema_and_a_good_example():
    assert set(ATTRIBUTES) == set(CIClass.values) == set(GOOD)


@pytest.mark.parametrize('ci_class', list(GOOD))
def test_good_attributes_pass(ci_class):
    assert validate_attributes(ci_class, GOOD[ci_class]) == GOOD[ci_class]


@pytest.mark.parametrize(('ci_class', 'attributes', 'name', 'words'), BAD)
def test_bad_attributes_are_refused_naming_the_attribute(ci_class, attributes, name, words):
    with pytest.raises(ValidationError) as caught:
        validate_attributes(ci_class, attributes)
    messages = caught.value.message_dict['attributes']
    assert any(m.startswith(f'{name}:') and words in m for m in messages), messages


def test_values_are_normalised():
    cleaned = validate_attributes(CIClass.NETWORK_SEGMENT, {'segment_type': 'lan', 'cidr': '10.3.7.9/16'})
    assert cleaned['cidr'] == '10.3.0.0/16'
    assert validate_attributes(CIClass.SERVER, {'hostname': ' db1 ', 'os': ''}) == {'hostname': 'db1'}


def test_all_problems_are_reported_at_once():
    with pytest.raises(ValidationError) as caught:
        validate_attributes(CIClass.SERVER, {'cpu_count': 'x', 'rack': 5})
    assert sorted(m.split(':')[0] for m in caught.value.message_dict['attributes']) == ['cpu_count', 'hostname', 'rack']


def test_text_from_csv_is_coerced_before_validation():
    raw = {'engine': 'mysql', 'port': '3306', 'size_gb': '12.5', 'replicated': 'yes'}
    assert coerce_attributes(CIClass.DATABASE, raw) == {
        'engine': 'mysql',
        'port': 3306,
        'size_gb': 12.5,
        'replicated': True,
    }
    assert coerce_attributes(CIClass.DATABASE, {'port': 'eighty'}) == {'port': 'eighty'}  # left for validation


class SchemaAPITests(ItsmTestCase):
    def setUp(self):
        self.client = self.api_client(self.make_user(Role.ADMINISTRATOR))

    def test_every_class_accepts_its_good_attributes(self):
        for ci_class, attributes in GOOD.items():
            with self.subTest(ci_class=ci_class):
                data = {'name': f'good {ci_class}', 'ci_class': ci_class, 'attributes': attributes}
                response = self.client.post('/api/v1/cis/', data, format='json')
                self.assertHttpStatus(response, 201)
                self.assertEqual(response.data['attributes'], attributes)

    def test_bad_attributes_are_a_400_naming_the_attribute(self):
        for ci_class, attributes, name, words in BAD:
            with self.subTest(ci_class=ci_class, name=name):
                data = {'name': f'bad {ci_class} {name}', 'ci_class': ci_class, 'attributes': attributes}
                response = self.client.post('/api/v1/cis/', data, format='json')
                self.assertHttpStatus(response, 400)
                self.assertTrue(
                    any(m.startswith(f'{name}:') and words in m for m in response.data['attributes']), response.data
                )

    def test_update_is_validated_too_and_changes_nothing_when_refused(self):
        ci = make_ci(CIClass.DATABASE, attributes={'port': 5432})
        response = self.client.patch(f'/api/v1/cis/{ci.number}/', {'attributes': {'port': 'x'}}, format='json')
        self.assertHttpStatus(response, 400)
        self.assertIn('engine: required', str(response.data['attributes']))
        ci.refresh_from_db()
        self.assertEqual(ci.attributes, {**REQUIRED_ATTRIBUTES[CIClass.DATABASE], 'port': 5432})

    def test_changing_class_rechecks_attributes(self):
        ci = make_ci(CIClass.SERVER)
        response = self.client.patch(f'/api/v1/cis/{ci.number}/', {'ci_class': 'database'}, format='json')
        self.assertHttpStatus(response, 400)
        self.assertIn('hostname: not an attribute of class database', str(response.data['attributes']))
