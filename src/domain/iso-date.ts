// Epoch milliseconds → ISO 8601 UTC text, exactly as Date#toISOString writes it.
// Every token view has up to four dates and a list page up to a thousand views;
// building the text from the UTC fields is about twice as fast as toISOString
// (bench: ~205 vs ~460 ns), which is a measurable share of a perPage=100 response.

const pad2 = (n: number) => (n < 10 ? '0' : '') + n;
const pad3 = (n: number) => (n < 10 ? '00' : n < 100 ? '0' : '') + n;

export function isoDate(ms: number): string {
  const d = new Date(ms);
  const year = d.getUTCFullYear();
  // Years outside 0–9999 use the extended ±YYYYYY form, and an invalid time throws:
  // both are left to toISOString.
  if (!(year >= 0 && year <= 9999)) return d.toISOString();
  return (
    (year < 1000 ? String(year).padStart(4, '0') : String(year)) +
    '-' + pad2(d.getUTCMonth() + 1) +
    '-' + pad2(d.getUTCDate()) +
    'T' + pad2(d.getUTCHours()) +
    ':' + pad2(d.getUTCMinutes()) +
    ':' + pad2(d.getUTCSeconds()) +
    '.' + pad3(d.getUTCMilliseconds()) +
    'Z'
  );
}
