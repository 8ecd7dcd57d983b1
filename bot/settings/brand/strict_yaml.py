"""The YAML dialect brand.yml and faq.yml are read in: text stays text, no key twice."""

from __future__ import annotations

import re
from typing import Any

import yaml


class _BrandLoader(yaml.SafeLoader):
    """Safe YAML loader tuned for brand.yml.

    Unlike PyYAML's default, it keeps ``13:00`` as text (not the base-60
    number 780) and dates as text (so a bad date is reported with its key
    instead of crashing the parser), and it rejects a key written twice.
    """

    def construct_mapping(self, node: yaml.Node, deep: bool = False) -> dict[Any, Any]:
        """Build a mapping, refusing duplicate keys.

        Args:
            node: The mapping node.
            deep: Whether to build nested values immediately.

        Returns:
            The mapping.

        Raises:
            yaml.constructor.ConstructorError: If a key appears twice.
        """
        if isinstance(node, yaml.MappingNode):
            seen: set[str] = set()
            for key_node, _ in node.value:
                if not isinstance(key_node, yaml.ScalarNode):
                    continue
                if key_node.tag == "tag:yaml.org,2002:merge":
                    continue
                if key_node.value in seen:
                    raise yaml.constructor.ConstructorError(
                        None,
                        None,
                        f'the key "{key_node.value}" is written twice',
                        key_node.start_mark,
                    )
                seen.add(key_node.value)
        return super().construct_mapping(node, deep=deep)


def _configure_loader() -> None:
    """Replace the number and date resolvers of :class:`_BrandLoader`."""
    replaced = {"tag:yaml.org,2002:int", "tag:yaml.org,2002:float", "tag:yaml.org,2002:timestamp"}
    _BrandLoader.yaml_implicit_resolvers = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag not in replaced]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }
    whole = re.compile(r"^[-+]?(?:0|[1-9][0-9_]*)$")
    decimal = re.compile(
        r"^(?:[-+]?[0-9][0-9_]*\.[0-9_]*(?:[eE][-+]?[0-9]+)?"
        r"|[-+]?\.[0-9][0-9_]*(?:[eE][-+]?[0-9]+)?"
        r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
    )
    _BrandLoader.add_implicit_resolver("tag:yaml.org,2002:int", whole, list("-+0123456789"))
    _BrandLoader.add_implicit_resolver("tag:yaml.org,2002:float", decimal, list("-+0123456789."))


_configure_loader()
