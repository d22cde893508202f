"""Traffic Light Protocol 2.0 labels and their order (FIRST TLP 2.0)."""

from django.db import models


class TLP(models.TextChoices):
    """A TLP 2.0 label. The order of the members is the order of restriction."""

    CLEAR = "TLP:CLEAR", "TLP:CLEAR"
    GREEN = "TLP:GREEN", "TLP:GREEN"
    AMBER = "TLP:AMBER", "TLP:AMBER"
    AMBER_STRICT = "TLP:AMBER+STRICT", "TLP:AMBER+STRICT"
    RED = "TLP:RED", "TLP:RED"


_RANK = {label: rank for rank, label in enumerate(TLP.values)}


def tlp_rank(label: str) -> int:
    """0 for CLEAR up to 4 for RED."""
    return _RANK[label]


def tlp_labels_up_to(clearance: str) -> list[str]:
    """Every label a member with this clearance may receive."""
    return [label for label in TLP.values if _RANK[label] <= _RANK[clearance]]
