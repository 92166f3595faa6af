// Local camera and microphone.
//
// getLocalMedia() never throws: it returns {stream, audio, video, notice}
// where stream may be null (receive only) and notice, when set, is one
// sentence for the user saying what is missing and why.

const VIDEO = {width: {ideal: 640}, height: {ideal: 480}, frameRate: {ideal: 15, max: 30}};
const AUDIO = {echoCancellation: true, noiseSuppression: true, autoGainControl: true};

function refused(err) {
  return err && (err.name === 'NotAllowedError' || err.name === 'SecurityError');
}

async function ask(constraints) {
  return navigator.mediaDevices.getUserMedia(constraints);
}

export async function getLocalMedia() {
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    return {stream: null, audio: false, video: false,
      notice: 'This browser (or an insecure http:// page) gives no access to camera and microphone: you join to watch and listen only.'};
  }
  try {
    const stream = await ask({audio: AUDIO, video: VIDEO});
    return {stream, audio: true, video: true, notice: ''};
  } catch (err) {
    if (refused(err)) {
      return {stream: null, audio: false, video: false,
        notice: 'Camera and microphone permission was refused: you join to watch and listen only.'};
    }
    console.warn('ferry: camera and microphone together failed:', err.name, err.message);
  }
  // No camera (or it is busy): try the microphone alone, then the camera alone.
  try {
    const stream = await ask({audio: AUDIO});
    return {stream, audio: true, video: false,
      notice: 'No camera available: you join with audio only.'};
  } catch (err) {
    if (refused(err)) {
      return {stream: null, audio: false, video: false,
        notice: 'Microphone permission was refused: you join to watch and listen only.'};
    }
  }
  try {
    const stream = await ask({video: VIDEO});
    return {stream, audio: false, video: true,
      notice: 'No microphone available: you join with video only.'};
  } catch (err) {
    // fall through
  }
  return {stream: null, audio: false, video: false,
    notice: 'No camera or microphone found: you join to watch and listen only.'};
}
