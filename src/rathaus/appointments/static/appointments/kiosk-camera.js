// Check-in at the kiosk by the QR code of the confirmation e-mail, read with the kiosk's camera
// (jsQR decodes the frames). Only shown where a camera can be asked for; without one, or when
// it is refused, the code is typed or read by a scanner that types it into the field.
(function () {
  "use strict";
  const box = document.getElementById("camera");
  if (!box || !window.jsQR || !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    return;
  }
  const button = document.getElementById("camera-start");
  const video = document.getElementById("camera-video");
  const status = document.getElementById("camera-status");
  const field = document.getElementById("id_code");
  const form = document.getElementById("check-in");
  const canvas = document.createElement("canvas");
  const context = canvas.getContext("2d", { willReadFrequently: true });
  const LOOK_EVERY_MS = 200;
  const GIVE_UP_MS = 60000; // the next citizen should not find the camera still running
  let stream = null;
  let started = 0;

  function stop(message) {
    if (stream) {
      stream.getTracks().forEach((track) => track.stop());
      stream = null;
    }
    video.hidden = true;
    button.disabled = false;
    status.textContent = message;
  }

  function look() {
    if (!stream) {
      return;
    }
    if (video.readyState >= video.HAVE_CURRENT_DATA && video.videoWidth) {
      canvas.width = video.videoWidth;
      canvas.height = video.videoHeight;
      context.drawImage(video, 0, 0);
      const image = context.getImageData(0, 0, canvas.width, canvas.height);
      const found = window.jsQR(image.data, image.width, image.height);
      if (found && found.data.trim()) {
        field.value = found.data.trim();
        stop(box.dataset.found);
        form.requestSubmit();
        return;
      }
    }
    if (Date.now() - started > GIVE_UP_MS) {
      stop(box.dataset.timeout);
      return;
    }
    window.setTimeout(look, LOOK_EVERY_MS);
  }

  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      stream = await navigator.mediaDevices.getUserMedia({ video: true, audio: false });
      video.srcObject = stream;
      video.hidden = false;
      await video.play();
    } catch (error) {
      // No camera, refused, or it would not play: the code can still be typed.
      stop(box.dataset.unavailable);
      return;
    }
    status.textContent = box.dataset.hold;
    started = Date.now();
    look();
  });
  box.hidden = false;
})();
