export type HeaderPair = [string, string];

/** How a sensitive header's value is redacted, given the function that fingerprints (and remembers) one secret. */
export function redactHeaderValue(name: string, value: string, secret: (s: string) => string): string {
  switch (name.toLowerCase()) {
    case 'authorization':
    case 'proxy-authorization': {
      // Keep the scheme ("Bearer", "Basic"): audits need it and it is no secret.
      const m = /^([A-Za-z][A-Za-z0-9._~+-]*)(\s+)(\S.*)$/s.exec(value);
      return m ? `${m[1]}${m[2]}${secret(m[3] as string)}` : secret(value);
    }
    case 'cookie':
      // name=value; name2=value2 → names kept, each value fingerprinted.
      return value.replace(/(^|;\s*)([^=;\s]+)=([^;]*)/g, (_all, sep: string, n: string, v: string) => `${sep}${n}=${v ? secret(v) : v}`);
    case 'set-cookie': {
      // name=value; Path=/; HttpOnly → only the value is a secret; the attributes stay.
      const m = /^(\s*[^=;\s]+=)([^;]*)(.*)$/s.exec(value);
      return m && m[2] ? `${m[1]}${secret(m[2])}${m[3]}` : value;
    }
    default:
      return value.length > 0 ? secret(value) : value;
  }
}
