from pulumi_policy.proxy import UNKNOWN_ARRAY_VALUE, UNKNOWN_STRING_VALUE

from pulumi_infrahub.policy import SECURITY_RULE, VOLUME, no_public_admin_ports

from .harness import check_resource, rule_props, vm_props, volume_props


def check_rule(name="ssh", config=None, **rule):
    return check_resource(
        no_public_admin_ports,
        rule_props(**rule),
        resource_type=SECURITY_RULE,
        name=name,
        config=config,
    )


def test_ssh_open_to_the_internet_is_a_violation():
    outcome = check_rule(remote_ip_prefix="0.0.0.0/0")

    [message] = outcome.violations
    assert message.startswith(
        "SecurityRule 'ssh' opens port 22 (SSH) over tcp to 0.0.0.0/0."
    )
    assert "Limit remote_ip_prefix" in message


def test_rdp_open_to_every_ipv6_address_is_a_violation():
    outcome = check_rule(
        name="rdp",
        ethertype="IPv6",
        remote_ip_prefix="::/0",
        port_range_min=3389,
        port_range_max=3389,
    )

    [message] = outcome.violations
    assert "opens port 3389 (RDP) over tcp to ::/0" in message


def test_ssh_from_one_address_passes():
    outcome = check_rule(remote_ip_prefix="203.0.113.7/32")

    assert outcome.violations == []


def test_egress_to_everyone_passes():
    outcome = check_rule(
        direction="egress",
        protocol="any",
        remote_ip_prefix="0.0.0.0/0",
        port_range_min=None,
        port_range_max=None,
    )

    assert outcome.violations == []


def test_any_protocol_from_everyone_opens_every_port():
    outcome = check_rule(
        name="wide-open",
        protocol="any",
        remote_ip_prefix="0.0.0.0/0",
        port_range_min=None,
        port_range_max=None,
    )

    [message] = outcome.violations
    assert "opens every port of every protocol to 0.0.0.0/0" in message


def test_tcp_rule_without_ports_opens_every_tcp_port():
    outcome = check_rule(
        remote_ip_prefix="0.0.0.0/0", port_range_min=None, port_range_max=None
    )

    [message] = outcome.violations
    assert "opens every tcp port" in message


def test_full_port_range_opens_every_port():
    outcome = check_rule(
        protocol="udp",
        remote_ip_prefix="0.0.0.0/0",
        port_range_min=1,
        port_range_max=65535,
    )

    [message] = outcome.violations
    assert "opens every udp port" in message


def test_range_that_covers_ssh_is_a_violation():
    outcome = check_rule(
        remote_ip_prefix="0.0.0.0/0", port_range_min=20, port_range_max=30
    )

    [message] = outcome.violations
    assert "opens port 22 (SSH) over tcp" in message


def test_https_open_to_everyone_passes():
    outcome = check_rule(
        remote_ip_prefix="0.0.0.0/0", port_range_min=443, port_range_max=443
    )

    assert outcome.violations == []


def test_icmp_from_everyone_passes():
    outcome = check_rule(
        protocol="icmp",
        remote_ip_prefix="0.0.0.0/0",
        port_range_min=None,
        port_range_max=None,
    )

    assert outcome.violations == []


def test_configured_ports_replace_the_defaults():
    config = {"ports": [5432]}

    postgres = check_rule(
        config=config,
        remote_ip_prefix="0.0.0.0/0",
        port_range_min=5432,
        port_range_max=5432,
    )
    ssh = check_rule(config=config, remote_ip_prefix="0.0.0.0/0")

    assert "opens port 5432 over tcp" in postgres.violations[0]
    assert ssh.violations == []


def test_every_port_is_refused_even_with_no_configured_ports():
    outcome = check_rule(
        config={"ports": []},
        protocol="any",
        remote_ip_prefix="::/0",
        port_range_min=None,
        port_range_max=None,
    )

    assert len(outcome.violations) == 1


def test_vm_rules_are_checked_one_by_one():
    rules = [
        rule_props(
            port_range_min=443, port_range_max=443, remote_ip_prefix="0.0.0.0/0"
        ),
        rule_props(remote_ip_prefix="0.0.0.0/0"),
    ]
    for rule in rules:
        del rule["__provider"], rule["virtual_machine_id"]

    outcome = check_resource(no_public_admin_ports, vm_props(security_rules=rules))

    [message] = outcome.violations
    assert message.startswith(
        "VirtualMachine 'trainer' (security_rules[1]) opens port 22 (SSH)"
    )


def test_vm_without_rules_passes():
    outcome = check_resource(no_public_admin_ports, vm_props(security_rules=[]))

    assert outcome.violations == []
    assert outcome.skipped is None


def test_unknown_prefix_skips_the_rule_and_names_it():
    outcome = check_rule(name="later", remote_ip_prefix=UNKNOWN_STRING_VALUE)

    assert outcome.violations == []
    assert outcome.skipped is not None
    assert outcome.skipped.startswith("remote_ip_prefix of SecurityRule 'later'")


def test_unknown_vm_rule_does_not_hide_a_known_open_rule():
    rules = [
        {
            "direction": "ingress",
            "protocol": "tcp",
            "ethertype": "IPv4",
            "remote_ip_prefix": UNKNOWN_STRING_VALUE,
            "port_range_min": 80,
            "port_range_max": 80,
        },
        {
            "direction": "ingress",
            "protocol": "tcp",
            "ethertype": "IPv4",
            "remote_ip_prefix": "0.0.0.0/0",
            "port_range_min": 22,
            "port_range_max": 22,
        },
    ]

    outcome = check_resource(no_public_admin_ports, vm_props(security_rules=rules))

    assert len(outcome.violations) == 1
    assert outcome.skipped is not None
    assert outcome.skipped.startswith(
        "security_rules.0.remote_ip_prefix of VirtualMachine 'trainer'"
    )


def test_unknown_rule_list_skips_the_vm():
    props = vm_props(security_rules=UNKNOWN_ARRAY_VALUE)

    outcome = check_resource(no_public_admin_ports, props)

    assert outcome.skipped is not None
    assert outcome.skipped.startswith("security_rules of VirtualMachine 'trainer'")


def test_firewall_policy_does_not_apply_to_volumes():
    outcome = check_resource(
        no_public_admin_ports, volume_props(), resource_type=VOLUME
    )

    assert (
        outcome.not_applicable
        == "applies to SecurityRule or VirtualMachine resources only"
    )
