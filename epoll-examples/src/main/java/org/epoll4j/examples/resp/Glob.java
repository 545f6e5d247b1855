package org.epoll4j.examples.resp;

/** Redis-style glob matching for CONFIG GET patterns: {@code *}, {@code ?}, ASCII case ignored. */
final class Glob {
    private Glob() {
    }

    static boolean matches(String pattern, String name) {
        return matches(pattern.toLowerCase(java.util.Locale.ROOT), 0, name, 0);
    }

    private static boolean matches(String p, int pi, String s, int si) {
        while (pi < p.length()) {
            char c = p.charAt(pi);
            if (c == '*') {
                while (pi + 1 < p.length() && p.charAt(pi + 1) == '*') {
                    pi++; // runs of stars match as one: keeps the backtracking polynomial
                }
                for (int k = si; k <= s.length(); k++) {
                    if (matches(p, pi + 1, s, k)) {
                        return true;
                    }
                }
                return false;
            }
            if (si >= s.length() || (c != '?' && c != s.charAt(si))) {
                return false;
            }
            pi++;
            si++;
        }
        return si == s.length();
    }
}
