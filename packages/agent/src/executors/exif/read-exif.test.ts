import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import sharp from "sharp";
import { quietIO } from "../shared/plugin-io.ts";
import { assertFatal, makeBombPng, makeImage, makeNotMedia, tempDir, truncateCopy } from "../shared/test-media.ts";
import { readExif } from "./read-exif.ts";

async function photoWithExif(path: string): Promise<void> {
  await sharp({ create: { width: 120, height: 80, channels: 3, background: "#468" } })
    .jpeg()
    .withMetadata({ orientation: 6 })
    .withExif({
      IFD0: { Make: "Gantry Optics", Model: "GX-100", Software: "gantry-test", DateTime: "2024:05:06 07:08:09" },
      IFD2: {
        DateTimeOriginal: "2023:12:31 23:59:58",
        ExposureTime: "1/250",
        FNumber: "28/10",
        ISOSpeedRatings: "400",
        FocalLength: "50/1",
      },
      IFD3: {
        GPSLatitudeRef: "S",
        GPSLatitude: "33/1 52/1 1080/100",
        GPSLongitudeRef: "W",
        GPSLongitude: "151/1 12/1 3060/100",
        GPSAltitudeRef: "0",
        GPSAltitude: "58/1",
      },
    })
    .toFile(path);
}

test("reads back what was written: make, model, datetime, GPS in decimal degrees, orientation, exposure", async (t) => {
  const dir = await tempDir(t);
  const photo = join(dir, "photo.jpg");
  await photoWithExif(photo);
  const { output, files } = await readExif({ path: photo }, {}, quietIO(dir));
  assert.deepEqual(files, []);
  assert.equal(output.make, "Gantry Optics");
  assert.equal(output.model, "GX-100");
  assert.equal(output.datetime, "2023-12-31T23:59:58");
  assert.equal(output.orientation, 6);
  assert.ok(output.gps);
  assert.ok(Math.abs(output.gps.latitude - -(33 + 52 / 60 + 10.8 / 3600)) < 1e-9);
  assert.ok(Math.abs(output.gps.longitude - -(151 + 12 / 60 + 30.6 / 3600)) < 1e-9);
  assert.equal(output.gps.altitude, 58);
  assert.deepEqual(output.exposure, { exposure_time: 0.004, f_number: 2.8, iso: 400, focal_length: 50 });
  assert.equal(output.tags.Software, "gantry-test");
  assert.equal(output.tags.ModifyDate, "2024:05:06 07:08:09");
  assert.doesNotThrow(() => JSON.stringify(output));
});

test("an image without EXIF gives nulls, not an error", async (t) => {
  const dir = await tempDir(t);
  const plain = join(dir, "plain.png");
  await makeImage(plain, 64, 64);
  const { output } = await readExif({ path: plain }, {}, quietIO(dir));
  assert.deepEqual([output.make, output.model, output.datetime, output.gps], [null, null, null, null]);
  assert.deepEqual(output.exposure, {});
});

test("bad input fails fatally: not an image, truncated metadata, decompression bomb", async (t) => {
  const dir = await tempDir(t);
  const io = quietIO(dir);
  const text = join(dir, "x.jpg");
  await makeNotMedia(text);
  await assertFatal(readExif({ path: text }, {}, io), /not an image/);
  const photo = join(dir, "photo.jpg");
  await photoWithExif(photo);
  const cut = join(dir, "cut.jpg");
  await truncateCopy(photo, cut, 0.1);
  await assertFatal(readExif({ path: cut }, {}, io), /truncated or corrupt|cannot decode|cannot read/);
  const bomb = join(dir, "bomb.png");
  await makeBombPng(bomb);
  await assertFatal(readExif({ path: bomb }, {}, io), /pixel limit/);
});
