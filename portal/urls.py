"""The portal's URLs, under `/` (the API stays under `/api/`)."""

from django.urls import path

from portal.views import (
    account,
    audit,
    home,
    imei,
    notices,
    profile_editor,
    profile_files,
    profile_history,
    profiles,
    settings,
)

app_name = "portal"

urlpatterns = [
    path("", home.home, name="home"),
    path("login/", account.sign_in, name="sign_in"),
    path("login/verify/", account.verify, name="verify"),
    path("login/enrol/", account.enrol, name="enrol"),
    path("logout/", account.sign_out, name="sign_out"),
    path("invite/<str:uid>/<str:token>/", account.invitation, name="invitation"),
    path("account/recovery-codes/", account.recovery_codes, name="recovery_codes"),
    path("account/", settings.settings_page, name="settings"),
    path("account/tokens/", settings.token_issue, name="token_issue"),
    path("account/tokens/<int:pk>/revoke/", settings.token_revoke, name="token_revoke"),
    path("account/recovery-codes/new/", settings.recovery_codes_renew, name="recovery_renew"),
    path("notices/", notices.inbox, name="notices"),
    path("notices/<int:pk>/", notices.notice_page, name="notice"),
    path("notices/<int:pk>/acknowledge/", notices.acknowledge, name="acknowledge"),
    path("profiles/", profiles.profile_list, name="profiles"),
    path("imei-check/", imei.imei_check, name="imei_check"),
    path("audit/", audit.trail, name="audit"),
    path("profiles/<int:pk>/", profiles.profile_detail, name="profile"),
    path("profiles/new/", profile_editor.profile_new, name="profile_new"),
    path("profiles/<int:pk>/edit/", profile_editor.profile_edit, name="profile_edit"),
    path("profiles/editor/rows/<str:section>/", profile_editor.editor_row, name="editor_row"),
    path("profiles/<int:pk>/attachments/", profile_files.attachment_add, name="attachment_add"),
    path("profiles/<int:pk>/revisions/", profile_history.revision_list, name="revisions"),
    path("profiles/<int:pk>/revisions/diff/", profile_history.revision_diff, name="revision_diff"),
]
