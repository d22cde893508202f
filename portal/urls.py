"""The portal's URLs, under `/` (the API stays under `/api/`)."""

from django.urls import path

from portal.views import (
    account,
    audit,
    compose,
    home,
    imei,
    notices,
    profiles,
    review,
    settings,
    subscriptions,
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
    path("notices/new/", compose.notice_new, name="notice_new"),
    path("notices/new/profiles/", compose.profile_choices, name="notice_profile_choices"),
    path("notices/new/preview/", compose.body_preview, name="notice_body_preview"),
    path("notices/<int:pk>/edit/", compose.notice_edit, name="notice_edit"),
    path("notices/<int:pk>/audience/", compose.audience_preview, name="notice_audience"),
    path("notices/<int:pk>/submit/", review.submit, name="notice_submit"),
    path("notices/<int:pk>/publish/", review.publish, name="notice_publish"),
    path("notices/<int:pk>/return/", review.return_to_drafter, name="notice_return"),
    path("notices/<int:pk>/receipts/", review.receipts, name="notice_receipts"),
    path("profiles/", profiles.profile_list, name="profiles"),
    path("imei-check/", imei.imei_check, name="imei_check"),
    path("audit/", audit.trail, name="audit"),
    path("profiles/<int:pk>/", profiles.profile_detail, name="profile"),
    path("subscriptions/", subscriptions.subscription_list, name="subscriptions"),
    path("subscriptions/<int:pk>/", subscriptions.subscription_page, name="subscription"),
    path(
        "subscriptions/<int:pk>/rotate-secret/",
        subscriptions.rotate_secret,
        name="subscription_rotate",
    ),
    path("subscriptions/<int:pk>/test/", subscriptions.send_test, name="subscription_test"),
    path("subscriptions/<int:pk>/enabled/", subscriptions.set_enabled, name="subscription_enabled"),
    path("subscriptions/<int:pk>/delete/", subscriptions.delete, name="subscription_delete"),
    path(
        "subscriptions/<int:pk>/deliveries/<int:delivery_id>/resend/",
        subscriptions.resend,
        name="delivery_resend",
    ),
    path("subscriptions/<int:pk>/recover/", subscriptions.recover, name="subscription_recover"),
]
