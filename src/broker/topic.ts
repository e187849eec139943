/**
 * Topic matching: words separated by '.', '*' matches exactly one word, '#' zero or more.
 * Dynamic programming over words, O(pattern × key), no regex built from user input.
 */
export function topicMatches(pattern: string, key: string): boolean {
  const p = pattern.split('.');
  const k = key.split('.');
  // prev[j]: p[0..i) matches k[0..j)
  let prev = new Array<boolean>(k.length + 1).fill(false);
  prev[0] = true;
  for (let i = 0; i < p.length; i++) {
    const word = p[i];
    const next = new Array<boolean>(k.length + 1).fill(false);
    if (word === '#') {
      let any = false;
      for (let j = 0; j <= k.length; j++) {
        any = any || prev[j] === true;
        next[j] = any;
      }
    } else {
      for (let j = 1; j <= k.length; j++) next[j] = prev[j - 1] === true && (word === '*' || word === k[j - 1]);
    }
    prev = next;
  }
  return prev[k.length] === true;
}
