def test_it_answers_healthz_without_login(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


def test_it_redirects_anonymous_home_to_sign_in(client, db):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_it_shows_home_to_a_manager(owner_client):
    assert owner_client.get("/").status_code == 200
