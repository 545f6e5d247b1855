package org.epoll4j.examples.resp;

import java.nio.charset.StandardCharsets;

/**
 * Glob matching as Redis's {@code stringmatchlen}: {@code *}, {@code ?}, {@code [abc]}, {@code [^a-z]} and
 * {@code \} escapes, over bytes. A mismatch after a star retries from the last star only, so a pattern of many stars
 * costs O(pattern × text), not exponential time.
 */
final class Glob {
    private Glob() {
    }

    /** CONFIG GET's matching: ASCII case ignored. */
    static boolean matches(String pattern, String name) {
        byte[] p = pattern.getBytes(StandardCharsets.ISO_8859_1);
        byte[] s = name.getBytes(StandardCharsets.ISO_8859_1);
        return matches(p, 0, p.length, s, 0, s.length, true);
    }

    /** Whether {@code s[so, so + sn)} matches {@code p[po, po + pn)}. */
    static boolean matches(byte[] p, int po, int pn, byte[] s, int so, int sn, boolean nocase) {
        int pi = po;
        int pe = po + pn;
        int si = so;
        int se = so + sn;
        int starP = -1;
        int starS = -1;
        while (si < se) {
            if (pi < pe && p[pi] == '*') {
                while (pi < pe && p[pi] == '*') {
                    pi++;
                }
                if (pi == pe) {
                    return true;
                }
                starP = pi;
                starS = si;
                continue;
            }
            int next = pi < pe ? one(p, pi, pe, s[si], nocase) : -1;
            if (next >= 0) {
                pi = next;
                si++;
            } else if (starP >= 0) {
                pi = starP;
                si = ++starS;
            } else {
                return false;
            }
        }
        while (pi < pe && p[pi] == '*') {
            pi++;
        }
        return pi == pe;
    }

    /** Matches one text byte {@code c} at pattern position {@code pi}: the next pattern position, or -1. */
    private static int one(byte[] p, int pi, int pe, byte c, boolean nocase) {
        byte pc = p[pi];
        if (pc == '?') {
            return pi + 1;
        }
        if (pc == '\\' && pi + 1 < pe) {
            return eq(p[pi + 1], c, nocase) ? pi + 2 : -1;
        }
        if (pc != '[') {
            return eq(pc, c, nocase) ? pi + 1 : -1;
        }
        int i = pi + 1;
        boolean not = i < pe && p[i] == '^';
        if (not) {
            i++;
        }
        boolean match = false;
        while (i < pe) {
            if (p[i] == '\\' && i + 2 < pe) {
                i++;
                match |= eq(p[i], c, nocase);
                i++;
            } else if (p[i] == ']') {
                break;
            } else if (i + 2 < pe && p[i + 1] == '-') {
                int lo = p[i] & 0xff;
                int hi = p[i + 2] & 0xff;
                if (lo > hi) {
                    int t = lo;
                    lo = hi;
                    hi = t;
                }
                int v = c & 0xff;
                if (nocase) {
                    int l = Character.toLowerCase(v);
                    int u = Character.toUpperCase(v);
                    match |= (l >= lo && l <= hi) || (u >= lo && u <= hi);
                } else {
                    match |= v >= lo && v <= hi;
                }
                i += 3;
            } else {
                match |= eq(p[i], c, nocase);
                i++;
            }
        }
        // an unclosed '[' ends the pattern, as in Redis
        int after = i < pe ? i + 1 : i;
        return match != not ? after : -1;
    }

    private static boolean eq(byte a, byte b, boolean nocase) {
        if (a == b) {
            return true;
        }
        if (!nocase) {
            return false;
        }
        return Character.toLowerCase(a & 0xff) == Character.toLowerCase(b & 0xff);
    }
}
