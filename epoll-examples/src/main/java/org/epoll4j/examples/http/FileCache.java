package org.epoll4j.examples.http;

import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A reactor's memory of recent {@link StaticFiles#lookup} results, so that a busy file is not resolved from scratch
 * (percent-decoding, {@code realpath} of every component, the root check, the index, the {@code .gz} sibling) on
 * every request. An entry is trusted for {@link #TTL_NANOS}; within that time each request still stats the file
 * ({@link StaticFiles#refresh}), so its size, modification time and ETag are always current and a file that
 * vanished or stopped being a regular file is looked up again. What the cache can delay by up to the TTL is a change
 * of what a path resolves to (a symlink swapped, an index added). Like nginx's {@code open_file_cache} with
 * {@code open_file_cache_valid 1s}. Loop-thread only; at most {@link #MAX} entries, least recently used out first.
 */
final class FileCache {
    /** How long a resolution is trusted. */
    static final long TTL_NANOS = 1_000_000_000L;
    /** The most entries kept. */
    static final int MAX = 1024;
    /**
     * Files up to this size are kept in memory too, and answered from there with the head in one write: for a small
     * file, open + sendfile + close cost more than copying its bytes. The copy is dropped as soon as a request's
     * stat sees a different size or modification time.
     */
    static final int SMALL = 16 * 1024;

    private record Entry(StaticFiles.Found found, long at) {
    }

    private final StaticFiles files;
    private final Map<String, Entry> entries = new LinkedHashMap<>(64, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, FileCache.Entry> eldest) { // inside a Map, Entry is Map.Entry
            return size() > MAX;
        }
    };

    FileCache(StaticFiles files) {
        this.files = files;
    }

    /** As {@link StaticFiles#lookup}, from the cache when a fresh entry exists. */
    StaticFiles.Found lookup(byte[] a, int from, int to) {
        String key = new String(a, from, to - from, StandardCharsets.ISO_8859_1);
        long now = System.nanoTime();
        Entry e = entries.get(key);
        if (e != null && now - e.at() < TTL_NANOS) {
            StaticFiles.Found f = files.refresh(e.found());
            if (f != null) {
                if (f != e.found()) {
                    f = withContent(f);
                    entries.put(key, new Entry(f, e.at()));
                }
                return f;
            }
        }
        StaticFiles.Found f = files.lookup(a, from, to);
        if (f.status() == 200) {
            f = withContent(f);
            entries.put(key, new Entry(f, now));
        } else {
            entries.remove(key);
        }
        return f;
    }

    /** {@code f} with the bytes of the small files among it and its sibling. */
    private static StaticFiles.Found withContent(StaticFiles.Found f) {
        byte[] body = small(f.path(), f.size());
        byte[] gz = f.gzPath() == null ? null : small(f.gzPath(), f.gzSize());
        return body == null && gz == null ? f : f.withContent(body, gz);
    }

    private static byte[] small(java.nio.file.Path p, long size) {
        if (size > SMALL) {
            return null;
        }
        try {
            byte[] b = java.nio.file.Files.readAllBytes(p);
            return b.length == size ? b : null; // changed while we looked: sendfile it this time
        } catch (java.io.IOException e) {
            return null;
        }
    }
}
