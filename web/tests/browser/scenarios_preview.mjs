// Browser scenario of artifact previews (issue 16, item 3): what an artifact
// holds is seen in the Artifacts view without a download.
//
//   n  one artifact of every preview kind is uploaded (files made by
//      /usr/bin/python3 as Kiln's users make them: NumPy arrays 1-D, 2-D and a
//      5-band cube, a torch state dict, a FITS image with a catalogue, a CSV,
//      JSON, text and gzip bytes); each row's Preview opens the server's
//      preview (GET …/artifacts/{digest}/preview, python/kiln/preview.py) and
//      shows the kind as it should: images, per-band strips, a line chart and
//      histogram, tensors, header cards, first rows, the value, the bytes
//
// Registered in run.mjs (`...previewScenarios(ctx)`). The files go in through
// the upload route (the Artifacts view's own upload is scenario g's subject).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assert } from './harness.mjs';

// name → serializer given at upload (none: sniffed from the bytes, as for any upload).
const FILES = [
  ['curve.npy', 'numpy'],
  ['image.npy', null],
  ['cube.npy', 'numpy'],
  ['model.pt', 'torch'],
  ['galaxy.fits', null],
  ['catalog.csv', null],
  ['metrics.json', 'json'],
  ['notes.txt', null],
  ['blob.gz', null],
];

const MAKE = `
import gzip, json, sys
import numpy as np
from astropy.io import fits
import torch
d = sys.argv[1]
rng = np.random.default_rng(16)
np.save(f"{d}/curve.npy", np.sin(np.linspace(0, 12, 5000)) + rng.normal(0, 0.1, 5000))
yy, xx = np.mgrid[-1:1:200j, -1:1:300j]
np.save(f"{d}/image.npy", np.exp(-(xx ** 2 + yy ** 2) * 4).astype(np.float32))
cube = np.stack([np.exp(-(xx[::4, ::4] ** 2 + yy[::4, ::4] ** 2) * (2 + b)) for b in range(5)])
np.save(f"{d}/cube.npy", cube.astype(np.float32))
net = torch.nn.Sequential(torch.nn.Conv2d(5, 8, 3), torch.nn.ReLU(), torch.nn.Flatten(), torch.nn.Linear(8, 32))
torch.save(net.state_dict(), f"{d}/model.pt")
img = fits.PrimaryHDU(rng.normal(100, 5, (64, 64)).astype(np.float32))
img.header["FILTER"] = ("r", "SDSS band")
img.header["REDSHIFT"] = 0.123
cat = fits.BinTableHDU.from_columns([fits.Column(name="objid", format="K", array=np.arange(30)),
                                     fits.Column(name="z", format="E", array=np.linspace(0, 0.4, 30))], name="CATALOG")
fits.HDUList([img, cat]).writeto(f"{d}/galaxy.fits")
with open(f"{d}/catalog.csv", "w") as f:
    f.write("objid,ra,dec,z\\n" + "".join(f"{i},{150 + i / 100},{2 - i / 200},{i / 250}\\n" for i in range(100)))
with open(f"{d}/metrics.json", "w") as f:
    json.dump({"bias": 0.0012, "sigma_mad": 0.021, "outliers": 0.034, "bins": list(range(32))}, f)
with open(f"{d}/notes.txt", "w") as f:
    f.write("Run notes\\nThe network learns the redshift from five bands.\\n")
with open(f"{d}/blob.gz", "wb") as f:
    f.write(gzip.compress(b"x" * 1000))
`;

/**
 * ctx: { browser, base, api, runner, newPage, allow }
 */
export function previewScenarios(ctx) {
  const { base, api, runner } = ctx;
  const T = { timeout: 60_000 };

  return {
    async n_artifact_previews() {
      const project = 'previews';
      const created = await api('/projects', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ name: project, description: 'One artifact of every preview kind' }),
      });
      assert(created.status === 201, `project created, got ${created.status}`);
      const dir = mkdtempSync(join(tmpdir(), 'kiln-previews-'));
      try {
        execFileSync('/usr/bin/python3', ['-c', MAKE, dir], { stdio: 'pipe', timeout: 120_000 });
        for (const [name, serializer] of FILES) {
          const q = new URLSearchParams({ name, branch: 'main' });
          if (serializer) q.set('serializer', serializer);
          const r = await fetch(`${base}/api/v1/projects/${project}/artifacts?${q}`, {
            method: 'POST',
            headers: { 'Content-Type': 'application/octet-stream' },
            body: readFileSync(join(dir, name)),
          });
          assert(r.status === 201, `${name} uploaded, got ${r.status} ${await r.text()}`);
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }

      const { page, errors } = await ctx.newPage(ctx.browser, base, { allow: ctx.allow });
      await page.goto(`${base}/#/p/${project}/artifacts`);
      await page.locator('[data-testid="artifact-curve.npy"]').waitFor(T);

      /** Opens the artifact's preview; returns its element once drawn. */
      async function open(name, kind) {
        const row = page.locator(`[data-testid="artifact-${name}"]`);
        await row.locator('[data-testid=preview-artifact]').click();
        const preview = page.locator(`.artifact-preview-row [data-testid=preview][data-kind=${kind}]`);
        const failed = page.locator('.artifact-preview-row [role=alert]');
        await Promise.race([preview.waitFor(T), failed.waitFor(T)]);
        assert((await failed.count()) === 0, `${name}: a preview, not "${(await failed.count()) ? await failed.innerText() : ''}"`);
        await preview.scrollIntoViewIfNeeded();
        return preview;
      }
      async function close(name) {
        await page.locator(`[data-testid="artifact-${name}"] [data-testid=preview-artifact]`).click();
        await page.locator('.artifact-preview-row').waitFor({ state: 'detached', ...T });
      }
      const images = (el) => el.locator('img[src^="data:image/png;base64,"]');
      const loaded = (el) =>
        el.evaluate((root) => [...root.querySelectorAll('img')].every((i) => i.complete && i.naturalWidth > 0));

      // 1-D: statistics, the line (uPlot) and the histogram.
      let p = await open('curve.npy', 'array');
      let text = await p.innerText();
      assert(/float64 array 5000/.test(text) && /mean/.test(text), `the curve's summary and statistics, got "${text}"`);
      await p.locator('.uplot canvas').first().waitFor(T);
      assert((await p.locator('.preview-hist rect').count()) === 32, 'a 32-bin histogram');
      await page.screenshot({ path: runner.shotPath('n1-preview-1d') });
      await close('curve.npy');

      // 2-D: one image, downsampled to at most 256 px a side.
      p = await open('image.npy', 'array');
      assert((await images(p).count()) === 1 && (await loaded(p)), 'the 2-D array as one image');
      const size = await images(p).first().evaluate((i) => [i.naturalWidth, i.naturalHeight]);
      assert(size[0] <= 256 && size[1] <= 256 && size[0] > size[1], `downsampled, aspect kept, got ${size}`);
      await page.screenshot({ path: runner.shotPath('n2-preview-image') });
      await close('image.npy');

      // A cube: one strip per band.
      p = await open('cube.npy', 'array');
      assert((await images(p).count()) === 5 && (await loaded(p)), 'five band images');
      text = await p.innerText();
      assert(/band 4/.test(text) && /channels first/.test(text), `bands labelled, got "${text}"`);
      await page.screenshot({ path: runner.shotPath('n3-preview-cube') });
      await close('cube.npy');

      // A state dict: tensor names, shapes and the parameter count.
      p = await open('model.pt', 'state_dict');
      text = await p.innerText();
      assert(/0\.weight/.test(text) && /8 × 5 × 3 × 3/.test(text) && /4 tensors/.test(text), `the tensors, got "${text}"`);
      await page.screenshot({ path: runner.shotPath('n4-preview-state-dict') });
      await close('model.pt');

      // FITS: the image, the header cards, the catalogue's first rows.
      p = await open('galaxy.fits', 'fits');
      assert((await images(p).count()) === 1 && (await loaded(p)), 'the FITS image');
      await p.locator('.preview-header summary').first().click();
      text = await p.innerText();
      assert(/FILTER/.test(text) && /REDSHIFT/.test(text) && /CATALOG/.test(text) && /first 20 of 30 rows/.test(text), `header and catalogue, got "${text}"`);
      await page.screenshot({ path: runner.shotPath('n5-preview-fits'), fullPage: true });
      await close('galaxy.fits');

      // A CSV: columns and first rows.
      p = await open('catalog.csv', 'table');
      text = await p.innerText();
      assert(/objid/i.test(text) && /first 20 of 100 rows/.test(text), `the table, got "${text}"`);
      await page.screenshot({ path: runner.shotPath('n6-preview-table') });
      await close('catalog.csv');

      // JSON, text and bytes.
      p = await open('metrics.json', 'json');
      text = await p.innerText();
      assert(/"sigma_mad": 0.021/.test(text), `the value, got "${text}"`);
      await page.screenshot({ path: runner.shotPath('n7-preview-json') });
      await close('metrics.json');
      p = await open('notes.txt', 'text');
      assert(/five bands/.test(await p.innerText()), 'the text');
      await close('notes.txt');
      p = await open('blob.gz', 'binary');
      text = await p.innerText();
      assert(/gzip/.test(text) && /1f 8b/.test(text), `the bytes, got "${text}"`);
      await page.screenshot({ path: runner.shotPath('n8-preview-binary') });

      assert(errors.length === 0, `no console errors:\n${errors.join('\n')}`);
    },
  };
}
