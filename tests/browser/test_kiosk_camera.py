"""Check-in at the kiosk by the QR code of the confirmation e-mail, read with a camera: Chromium's
fake camera plays the QR code picture attached to the booking's confirmation e-mail;
the kiosk reads it and checks the citizen in. Without a camera the kiosk says to type the code."""

from __future__ import annotations

import io

import pytest
from django.utils import timezone
from django_scopes import scope
from PIL import Image  # comes with weasyprint
from playwright.sync_api import expect

from rathaus.appointments.mails import qr_png
from rathaus.appointments.models import Ticket
from rathaus.appointments.office_views import device_url
from tests.appointments.conftest import build_office
from tests.browser.conftest import axe_violations, launch_chromium
from tests.browser.test_office_flow import appointment_today

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTH, HEIGHT = 640, 480


def qr_video(png: bytes, path) -> None:
    """One frame of Y4M video (grey, 4:2:0) showing the e-mail's QR code picture, as a phone's
    screen held up to the camera would; Chromium's fake camera plays it in a loop."""
    code = Image.open(io.BytesIO(png)).convert("L")
    frame = Image.new("L", (WIDTH, HEIGHT), 255)
    frame.paste(code, ((WIDTH - code.width) // 2, (HEIGHT - code.height) // 2))
    chroma = b"\x80" * (WIDTH // 2 * HEIGHT // 2)
    header = f"YUV4MPEG2 W{WIDTH} H{HEIGHT} F10:1 Ip A1:1 C420jpeg\n".encode()
    path.write_bytes(header + b"FRAME\n" + frame.tobytes() + chroma + chroma)


@pytest.fixture
def camera_browser(playwright, tmp_path):
    """A Chromium whose (fake) camera shows `tmp_path / "camera.y4m"`, allowed without asking."""
    video = tmp_path / "camera.y4m"
    browser = launch_chromium(
        playwright,
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-video-capture={video}",
    )
    yield browser, video
    browser.close()


def test_the_kiosk_reads_the_qr_code_of_the_confirmation_with_its_camera(
    camera_browser, live_server, world_a
):
    browser, video = camera_browser
    with scope(tenant=world_a.tenant):
        office = build_office(world_a, today=timezone.localdate())
        booking = appointment_today(office)
        kiosk_path = device_url(office.location, "kiosk")
    qr_video(qr_png(booking.code), video)  # the picture attached to the confirmation e-mail
    kiosk = browser.new_context(locale="de-DE").new_page()  # the pages' own CSP applies
    errors: list[str] = []
    kiosk.on("pageerror", lambda error: errors.append(str(error)))
    kiosk.goto(f"{live_server.url}{kiosk_path}")
    kiosk.get_by_role("button", name="QR-Code mit der Kamera lesen").click()
    expect(kiosk.locator("#ticket-number")).to_have_text("T001", timeout=15_000)
    with scope(tenant=world_a.tenant):
        assert Ticket.objects.get().booking_id == booking.pk
    assert errors == []


def test_without_a_camera_the_kiosk_asks_to_type_the_code(page, live_server, world_a):
    with scope(tenant=world_a.tenant):
        office = build_office(world_a, today=timezone.localdate())
        kiosk_path = device_url(office.location, "kiosk")
    page.goto(f"{live_server.url}{kiosk_path}")  # the test browser has no camera
    page.get_by_role("button", name="QR-Code mit der Kamera lesen").click()
    expect(page.locator("#camera-status")).to_have_text(
        "Die Kamera kann nicht genutzt werden. Bitte geben Sie den Code ein."
    )
    expect(page.locator("#camera-start")).to_be_enabled()
    assert axe_violations(page) == []
