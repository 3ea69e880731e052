/** One `WWW-Authenticate` challenge: its scheme (lower case) and parameters (keys lower case). */
export interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

/**
 * Parse a `WWW-Authenticate` header value into its challenges (RFC 7235): several may share one
 * header (`Basic realm="x", Bearer realm="y",service="z"`), and quoted values may hold commas
 * (`scope="repository:a:pull,push"`) and escaped quotes.
 */
export function parseChallenges(header: string | string[] | undefined): Challenge[] {
  if (header === undefined) return [];
  const values = Array.isArray(header) ? header : [header];
  const out: Challenge[] = [];
  for (const value of values) {
    let i = 0;
    const s = value;
    const skip = () => {
      while (i < s.length && (s[i] === ' ' || s[i] === '\t' || s[i] === ',')) i++;
    };
    const token = () => {
      const start = i;
      while (i < s.length && /[!#$%&'*+\-.^_`|~0-9A-Za-z]/.test(s[i])) i++;
      return s.slice(start, i);
    };
    let current: Challenge | undefined;
    while (i < s.length) {
      skip();
      const start = i;
      const word = token();
      if (!word) {
        i++;
        continue;
      }
      while (i < s.length && s[i] === ' ') i++;
      if (s[i] === '=' && current) {
        i++;
        while (i < s.length && s[i] === ' ') i++;
        let v = '';
        if (s[i] === '"') {
          i++;
          while (i < s.length && s[i] !== '"') {
            if (s[i] === '\\' && i + 1 < s.length) i++;
            v += s[i++];
          }
          i++;
        } else {
          const vs = i;
          while (i < s.length && s[i] !== ',' && s[i] !== ' ') i++;
          v = s.slice(vs, i);
        }
        current.params[word.toLowerCase()] = v;
      } else if (s[i] === '=' && !current) {
        // a parameter before any scheme: malformed, skip it
        i++;
        token();
      } else {
        // token68 after a scheme (`Basic abc==`) is not used by registries: a new scheme starts
        void start;
        current = { scheme: word.toLowerCase(), params: {} };
        out.push(current);
      }
    }
  }
  return out;
}
