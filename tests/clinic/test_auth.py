import re

import pytest
from django.contrib.auth import SESSION_KEY
from django.core import mail
from django.test import Client
from django.urls import reverse

from tests.conftest import PASSWORD
from tests.factories import UserFactory

NEW_PASSWORD = "a brand new knee-friendly passphrase"


def _sign_in(client: Client, username: str, password: str, next_url: str = ""):
    data = {"username": username, "password": password}
    if next_url:
        data["next"] = next_url
    return client.post(reverse("login"), data)


def test_staff_member_signs_in_and_lands_on_the_home_page(client, front_desk) -> None:
    response = _sign_in(client, "frontdesk", PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    assert "Good to see you, Fran Miller" in client.get(reverse("home")).content.decode()


def test_sign_in_returns_to_the_page_that_was_asked_for(client, front_desk) -> None:
    response = _sign_in(client, "frontdesk", PASSWORD, next_url=reverse("patients:list"))
    assert response["Location"] == reverse("patients:list")


def test_sign_in_never_sends_someone_to_another_site(client, front_desk) -> None:
    response = _sign_in(client, "frontdesk", PASSWORD, next_url="https://evil.example.com/")
    assert response["Location"] == reverse("home")


def test_wrong_password_is_refused_with_a_message(client, front_desk) -> None:
    response = _sign_in(client, "frontdesk", "not the password")
    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.content.decode()
    assert SESSION_KEY not in client.session


def test_deactivated_staff_member_cannot_sign_in(client, db) -> None:
    UserFactory(username="leaver", is_active=False)
    response = _sign_in(client, "leaver", PASSWORD)
    assert response.status_code == 200
    assert SESSION_KEY not in client.session


def test_signed_in_person_opening_the_sign_in_page_goes_home(front_desk_client) -> None:
    response = front_desk_client.get(reverse("login"))
    assert response.status_code == 302
    assert response["Location"] == reverse("home")


def test_sign_out_ends_the_session_and_shows_the_sign_in_page(front_desk_client) -> None:
    response = front_desk_client.post(reverse("logout"))
    assert response.status_code == 302
    assert response["Location"] == reverse("login")
    assert SESSION_KEY not in front_desk_client.session
    after = front_desk_client.get(reverse("patients:list"))
    assert after.status_code == 302
    assert after["Location"].startswith(reverse("login"))


def test_sign_out_by_a_plain_link_is_refused(front_desk_client) -> None:
    assert front_desk_client.get(reverse("logout")).status_code == 405
    assert front_desk_client.get(reverse("home")).status_code == 200


@pytest.mark.parametrize("url_name", ["home", "patients:list", "patients:create"])
def test_anonymous_visitor_is_sent_to_sign_in_and_back(client, db, url_name: str) -> None:
    url = reverse(url_name)
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={url}"


def test_anonymous_visitor_cannot_reach_a_patient_record(client, patient) -> None:
    response = client.get(patient.get_absolute_url())
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert b"Hannah" not in response.content


def test_sign_in_page_links_to_password_reset(client, db) -> None:
    page = client.get(reverse("login")).content.decode()
    assert reverse("password_reset") in page


def test_password_change_lets_the_person_sign_in_with_the_new_password(
    front_desk_client, front_desk
) -> None:
    response = front_desk_client.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("password_change_done")
    done = front_desk_client.get(response["Location"])
    assert "Your password has been changed" in done.content.decode()
    # The session that changed the password stays signed in.
    assert front_desk_client.get(reverse("home")).status_code == 200

    assert _sign_in(Client(), "frontdesk", NEW_PASSWORD).status_code == 302
    assert _sign_in(Client(), "frontdesk", PASSWORD).status_code == 200


def test_password_change_needs_the_old_password(front_desk_client, front_desk) -> None:
    response = front_desk_client.post(
        reverse("password_change"),
        {"old_password": "guess", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response.status_code == 200
    assert "Your old password was entered incorrectly" in response.content.decode()
    front_desk.refresh_from_db()
    assert front_desk.check_password(PASSWORD)


def test_password_change_refuses_a_short_password(front_desk_client, front_desk) -> None:
    response = front_desk_client.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": "kneecap1", "new_password2": "kneecap1"},
    )
    assert response.status_code == 200
    assert "at least 12 characters" in response.content.decode()
    front_desk.refresh_from_db()
    assert front_desk.check_password(PASSWORD)


def _reset_link() -> str:
    assert len(mail.outbox) == 1
    match = re.search(r"https?://[^/\s]+(/accounts/password/reset/\S+/)", mail.outbox[0].body)
    assert match, mail.outbox[0].body
    return match.group(1)


def test_password_reset_mails_a_link_that_sets_a_new_password(client, front_desk) -> None:
    response = client.post(reverse("password_reset"), {"email": "frontdesk@example.com"})
    assert response.status_code == 302
    assert response["Location"] == reverse("password_reset_done")
    assert "Check your e-mail" in client.get(response["Location"]).content.decode()

    message = mail.outbox[0]
    assert message.to == ["frontdesk@example.com"]
    assert "Kneecap Physiotherapy" in message.body
    assert "(frontdesk)" in message.body

    form_page = client.get(_reset_link(), follow=True)
    assert form_page.status_code == 200
    assert "Choose a new password" in form_page.content.decode()
    done = client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert done.status_code == 302
    assert done["Location"] == reverse("password_reset_complete")

    assert _sign_in(Client(), "frontdesk", NEW_PASSWORD).status_code == 302


def test_password_reset_link_works_only_once(client, front_desk) -> None:
    client.post(reverse("password_reset"), {"email": "frontdesk@example.com"})
    link = _reset_link()
    form_page = client.get(link, follow=True)
    client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    again = Client().get(link, follow=True)
    assert "This link no longer works" in again.content.decode()


def test_password_reset_for_an_unknown_address_sends_nothing_and_says_the_same(
    client, front_desk
) -> None:
    response = client.post(reverse("password_reset"), {"email": "nobody@example.com"})
    assert response.status_code == 302
    assert response["Location"] == reverse("password_reset_done")
    assert mail.outbox == []
