"""The portal's URLs, under `/` (the API stays under `/api/`)."""

from django.urls import path

from portal.views import (
    access_requests,
    account,
    audit,
    home,
    imei,
    notices,
    profiles,
    seizure_stats,
    seizures,
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
    path("seizures/", seizures.report_list, name="seizures"),
    path("seizures/new/", seizures.report_new, name="seizure_new"),
    path("seizures/stats/", seizure_stats.stats, name="seizure_stats"),
    path("seizures/<int:pk>/", seizures.report_detail, name="seizure"),
    path("access-requests/", access_requests.request_list, name="access_requests"),
    path("access-requests/new/", access_requests.request_new, name="access_request_new"),
    path("access-requests/<int:pk>/", access_requests.request_detail, name="access_request"),
    path(
        "access-requests/<int:pk>/<str:action>/",
        access_requests.request_act,
        name="access_request_act",
    ),
]
