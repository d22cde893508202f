"""Who may file and change profiles and their labels, and set their organisation's access
policy (who may *see* them: `intel.visibility`)."""

from intel.models import TLP, DeviceProfile, Member, Organisation, Role


def may_file_profiles(member: Member) -> bool:
    """Analysts file profiles for their organisation; the secretariat's coordinators too."""
    return member.organisation is not None and (
        member.role == Role.ANALYST or member.is_secretariat_coordinator
    )


def may_change_profile(member: Member, profile: DeviceProfile) -> bool:
    """Only the owner organisation's analysts and the secretariat's coordinators."""
    if member.is_secretariat_coordinator:
        return True
    return member.role == Role.ANALYST and member.organisation_id == profile.owner_id


def may_widen_audience(member: Member, profile: DeviceProfile) -> bool:
    """Adding recipients shares the profile further, like lowering its label: the owner's
    call alone. Anyone who may change the profile may remove recipients."""
    return member.organisation_id == profile.owner_id


def may_set_tlp(member: Member, profile: DeviceProfile, new_tlp: str) -> bool:
    """Raising a label is anyone's who may change the profile; lowering it is the owner's."""
    if not TLP.above(profile.tlp, new_tlp):
        return True
    return member.organisation_id == profile.owner_id


def may_set_access_policy(member: Member, organisation: Organisation) -> bool:
    """Who decides access to what an organisation owns is for its own coordinators to say."""
    return member.organisation_id == organisation.pk and member.role == Role.COORDINATOR
