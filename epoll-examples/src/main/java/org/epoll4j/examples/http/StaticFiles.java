package org.epoll4j.examples.http;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Locale;
import java.util.Map;

/**
 * Maps request paths to regular files under a root directory, so that nothing outside it is ever served.
 *
 * <p>The rules, in order: percent-escapes are decoded once (a malformed escape, or one decoding to NUL, {@code /} or
 * {@code \}, is a 400); a raw {@code \} or NUL is a 400; each segment must be valid UTF-8 and must not be {@code .}
 * or {@code ..} (400, also when spelled {@code %2e%2e}); the file found is resolved with {@link Path#toRealPath}
 * and must still lie under the root's real path (a symlink leading out is a 404, as is anything that is not a
 * regular file); a directory named with its trailing slash serves its {@code index.html} under the same checks,
 * else 403 (no listings); named without the slash it is a 301 to the slashed path.
 */
final class StaticFiles {
    /** Served for a directory. */
    static final String INDEX = "index.html";

    private static final String DEFAULT_TYPE = "application/octet-stream";
    private static final Map<String, String> TYPES = Map.ofEntries(
            Map.entry("html", "text/html; charset=utf-8"),
            Map.entry("htm", "text/html; charset=utf-8"),
            Map.entry("txt", "text/plain; charset=utf-8"),
            Map.entry("css", "text/css; charset=utf-8"),
            Map.entry("js", "text/javascript; charset=utf-8"),
            Map.entry("mjs", "text/javascript; charset=utf-8"),
            Map.entry("csv", "text/csv; charset=utf-8"),
            Map.entry("md", "text/markdown; charset=utf-8"),
            Map.entry("markdown", "text/markdown; charset=utf-8"),
            Map.entry("vtt", "text/vtt; charset=utf-8"),
            Map.entry("json", "application/json"),
            Map.entry("map", "application/json"),
            Map.entry("jsonld", "application/ld+json"),
            Map.entry("webmanifest", "application/manifest+json"),
            Map.entry("xml", "application/xml"),
            Map.entry("rss", "application/rss+xml"),
            Map.entry("atom", "application/atom+xml"),
            Map.entry("svg", "image/svg+xml"),
            Map.entry("png", "image/png"),
            Map.entry("apng", "image/apng"),
            Map.entry("jpg", "image/jpeg"),
            Map.entry("jpeg", "image/jpeg"),
            Map.entry("gif", "image/gif"),
            Map.entry("webp", "image/webp"),
            Map.entry("avif", "image/avif"),
            Map.entry("bmp", "image/bmp"),
            Map.entry("ico", "image/x-icon"),
            Map.entry("mp3", "audio/mpeg"),
            Map.entry("ogg", "audio/ogg"),
            Map.entry("oga", "audio/ogg"),
            Map.entry("opus", "audio/ogg"),
            Map.entry("wav", "audio/wav"),
            Map.entry("flac", "audio/flac"),
            Map.entry("m4a", "audio/mp4"),
            Map.entry("aac", "audio/aac"),
            Map.entry("mp4", "video/mp4"),
            Map.entry("m4v", "video/mp4"),
            Map.entry("webm", "video/webm"),
            Map.entry("ogv", "video/ogg"),
            Map.entry("mov", "video/quicktime"),
            Map.entry("mkv", "video/x-matroska"),
            Map.entry("ts", "video/mp2t"),
            Map.entry("m3u8", "application/vnd.apple.mpegurl"),
            Map.entry("woff", "font/woff"),
            Map.entry("woff2", "font/woff2"),
            Map.entry("ttf", "font/ttf"),
            Map.entry("otf", "font/otf"),
            Map.entry("pdf", "application/pdf"),
            Map.entry("wasm", "application/wasm"),
            Map.entry("zip", "application/zip"),
            Map.entry("gz", "application/gzip"),
            Map.entry("tar", "application/x-tar"),
            Map.entry("txz", "application/x-xz"),
            Map.entry("xz", "application/x-xz"),
            Map.entry("zst", "application/zstd"),
            Map.entry("7z", "application/x-7z-compressed"));

    /**
     * What a lookup found: a status other than 200 (301 for a directory named without its slash, 403 for a
     * directory without an index, 400, 404), or a readable regular file with its strong ETag and, if there is one,
     * its precompressed {@code .gz} sibling.
     */
    record Found(int status, Path path, long size, long lastModifiedSecond, String contentType, String etag,
                 Path gzPath, long gzSize, String gzEtag, byte[] content, byte[] gzContent) {
        static Found error(int status) {
            return new Found(status, null, 0, 0, null, null, null, 0, null, null, null);
        }

        /** This file with its bytes (and its sibling's) kept in memory; either may be null. */
        Found withContent(byte[] body, byte[] gzBody) {
            return new Found(status, path, size, lastModifiedSecond, contentType, etag, gzPath, gzSize, gzEtag, body,
                    gzBody);
        }
    }

    private final Path root;

    /**
     * @param root an existing directory; its real path is what files are checked against
     * @throws IOException if it cannot be resolved
     */
    StaticFiles(Path root) throws IOException {
        this.root = root.toRealPath();
        if (!Files.isDirectory(this.root)) {
            throw new IOException("not a directory: " + root);
        }
    }

    /** The root's real path. */
    Path root() {
        return root;
    }

    /**
     * Finds the file a request path names.
     *
     * @param a    the bytes holding the path
     * @param from its first byte, a {@code /}
     * @param to   one past its last byte (the query already cut off)
     * @return the file, or the status to answer with (301, 400, 403, 404)
     */
    Found lookup(byte[] a, int from, int to) {
        Path p = root;
        ByteArrayOutputStream segment = new ByteArrayOutputStream();
        for (int i = from + 1; i <= to; i++) {
            if (i == to || a[i] == '/') {
                if (segment.size() > 0) {
                    String name = segmentName(segment.toByteArray());
                    if (name == null) {
                        return Found.error(400);
                    }
                    p = p.resolve(name);
                    segment.reset();
                }
                continue;
            }
            int b = a[i] & 0xff;
            if (b == '%') {
                int hi = i + 2 < to ? hex(a[i + 1]) : -1;
                int lo = hi >= 0 ? hex(a[i + 2]) : -1;
                if (lo < 0) {
                    return Found.error(400);
                }
                b = hi << 4 | lo;
                if (b == '/') {
                    return Found.error(400); // an encoded slash would be a separator that is not one
                }
                i += 2;
            }
            if (b == 0 || b == '\\') {
                return Found.error(400);
            }
            segment.write(b);
        }
        if (!p.startsWith(root)) {
            return Found.error(400); // cannot happen with the segment rules above; kept as a second wall
        }
        boolean trailingSlash = a[to - 1] == '/';
        try {
            Path real = p.toRealPath();
            if (!real.startsWith(root)) {
                return Found.error(404); // a symlink leading out: as if it did not exist
            }
            BasicFileAttributes attrs = Files.readAttributes(real, BasicFileAttributes.class);
            if (attrs.isDirectory()) {
                if (!trailingSlash) {
                    return Found.error(301); // relative links in its index resolve against the slashed path
                }
                try {
                    real = real.resolve(INDEX).toRealPath();
                } catch (NoSuchFileException noIndex) {
                    return Found.error(403); // no listings (nginx without autoindex answers the same)
                }
                if (!real.startsWith(root)) {
                    return Found.error(404);
                }
                attrs = Files.readAttributes(real, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
            } else if (trailingSlash) {
                return Found.error(404);
            }
            if (!attrs.isRegularFile()) {
                return Found.error(404); // devices, FIFOs (sendfile would block on them) and sockets
            }
            if (!Files.isReadable(real)) {
                return Found.error(403);
            }
            String name = real.getFileName().toString();
            Path gz = null;
            long gzSize = 0;
            String gzEtag = null;
            if (!name.endsWith(".gz")) {
                gz = gzipSibling(real);
                if (gz != null) {
                    BasicFileAttributes g = Files.readAttributes(gz, BasicFileAttributes.class);
                    gzSize = g.size();
                    gzEtag = etag(g, "-gz");
                }
            }
            return new Found(200, real, attrs.size(), attrs.lastModifiedTime().toMillis() / 1000,
                    contentType(name), etag(attrs, ""), gz, gzSize, gzEtag, null, null);
        } catch (NoSuchFileException e) {
            return Found.error(404);
        } catch (AccessDeniedException e) {
            return Found.error(403);
        } catch (IOException e) {
            return Found.error(404); // e.g. ENOTDIR, ELOOP
        }
    }

    /**
     * Re-reads a found file's size and modification time (one {@code stat}, two with a {@code .gz} sibling).
     *
     * @return {@code f} itself if nothing changed, a copy with the new size, time and ETags if something did, or
     *         null if the file (or its sibling) is gone or no longer a regular file: look it up again
     */
    Found refresh(Found f) {
        try {
            BasicFileAttributes a = Files.readAttributes(f.path(), BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
            if (!a.isRegularFile()) {
                return null;
            }
            BasicFileAttributes g = null;
            if (f.gzPath() != null) {
                g = Files.readAttributes(f.gzPath(), BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
                if (!g.isRegularFile()) {
                    return null;
                }
            }
            String etag = etag(a, "");
            String gzEtag = g == null ? null : etag(g, "-gz");
            if (etag.equals(f.etag()) && (g == null || gzEtag.equals(f.gzEtag()))) {
                return f;
            }
            return new Found(200, f.path(), a.size(), a.lastModifiedTime().toMillis() / 1000, f.contentType(), etag,
                    f.gzPath(), g == null ? 0 : g.size(), gzEtag, null, null);
        } catch (IOException e) {
            return null;
        }
    }

    /** The real path of {@code file.gz} if it is a readable regular file under the root, else null. */
    private Path gzipSibling(Path file) {
        try {
            Path gz = file.resolveSibling(file.getFileName() + ".gz").toRealPath();
            if (!gz.startsWith(root) || !Files.isReadable(gz)
                    || !Files.readAttributes(gz, BasicFileAttributes.class).isRegularFile()) {
                return null;
            }
            return gz;
        } catch (IOException e) {
            return null;
        }
    }

    /**
     * A strong validator from the modification time (nanoseconds, as the file system keeps it) and the size, as
     * nginx makes its ETags; {@code suffix} tells the gzip variant apart.
     */
    private static String etag(BasicFileAttributes a, String suffix) {
        return "\"" + Long.toHexString(a.lastModifiedTime().to(java.util.concurrent.TimeUnit.NANOSECONDS)) + "-"
                + Long.toHexString(a.size()) + suffix + "\"";
    }

    /** The segment as a file name, or null if it is not valid UTF-8 or is {@code .} or {@code ..}. */
    private static String segmentName(byte[] bytes) {
        String name;
        try {
            name = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            return null;
        }
        return name.equals(".") || name.equals("..") ? null : name;
    }

    private static int hex(byte b) {
        if (b >= '0' && b <= '9') {
            return b - '0';
        }
        if (b >= 'a' && b <= 'f') {
            return b - 'a' + 10;
        }
        if (b >= 'A' && b <= 'F') {
            return b - 'A' + 10;
        }
        return -1;
    }

    /** The Content-Type for a file name, by its extension. */
    static String contentType(String fileName) {
        int dot = fileName.lastIndexOf('.');
        if (dot < 0) {
            return DEFAULT_TYPE;
        }
        return TYPES.getOrDefault(fileName.substring(dot + 1).toLowerCase(Locale.ROOT), DEFAULT_TYPE);
    }
}
