"""Traffic Light Protocol 2.0 labels and their order (FIRST TLP 2.0)."""

from django.db import models

from core.vocabularies import vocabulary


class TLP(models.TextChoices):
    """A TLP 2.0 label. The order of the members is the order of restriction: every
    comparison of labels goes through the class methods below."""

    CLEAR = "TLP:CLEAR", "TLP:CLEAR"
    GREEN = "TLP:GREEN", "TLP:GREEN"
    AMBER = "TLP:AMBER", "TLP:AMBER"
    AMBER_STRICT = "TLP:AMBER+STRICT", "TLP:AMBER+STRICT"
    RED = "TLP:RED", "TLP:RED"

    @classmethod
    def rank(cls, label: str) -> int:
        """0 for CLEAR up to 4 for RED."""
        return cls.values.index(label)

    @classmethod
    def at_most(cls, ceiling: str) -> list[str]:
        """Every label no stricter than `ceiling`: what a member cleared for it may receive."""
        return cls.values[: cls.rank(ceiling) + 1]

    @classmethod
    def above(cls, label: str, ceiling: str) -> bool:
        """Whether `label` is stricter than `ceiling` (e.g. than a member's clearance)."""
        return cls.rank(label) > cls.rank(ceiling)

    @classmethod
    def stricter(cls, a: str, b: str) -> str:
        """The stricter of two labels."""
        return a if cls.rank(a) >= cls.rank(b) else b

    @classmethod
    def cap(cls, label: str, ceiling: str) -> str:
        """`label`, lowered to `ceiling` when it is stricter."""
        return ceiling if cls.above(label, ceiling) else label


vocabulary(
    "tlp",
    TLP,
    title="TLP label",
    description="Who may receive a profile, an attachment, a notice or a seizure report "
    "(FIRST TLP 2.0, docs/concepts.md); also a member's clearance, the highest label the "
    "member may receive.",
    fields=(
        "profiles: tlp",
        "profiles: attachments[].tlp",
        "me: clearance",
    ),
    values={
        TLP.CLEAR: "Anyone authenticated on DIX.",
        TLP.GREEN: "Every organisation of the network.",
        TLP.AMBER: "The owner organisation, the named recipient organisations, the national "
        "authorities the owner or a recipient sponsors, and holders of a grant.",
        TLP.AMBER_STRICT: "The owner and the named recipient organisations only (not the "
        "authorities they sponsor), and holders of a grant.",
        TLP.RED: "The named individual members only (and the member who created it).",
    },
)
