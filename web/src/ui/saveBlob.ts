// Saves bytes the page fetched as a file download. A plain <a href download>
// cannot carry the client's extra headers (a bearer token) and the browser
// shows a failed one as a broken download; fetching first lets the view show
// progress and a clear error, then hand the bytes over under the right name.

export function saveBlob(blob: Blob, fileName: string): void {
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = fileName;
  document.body.append(link);
  link.click();
  link.remove();
  // The download has started from the object URL; give it time before freeing it.
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
