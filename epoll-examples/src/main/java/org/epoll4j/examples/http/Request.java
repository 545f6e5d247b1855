package org.epoll4j.examples.http;

/**
 * The parts of one request head the server acts on, as offsets into the byte array the head was parsed from (no
 * Strings are built for headers). One instance per reactor, reset for every request.
 */
final class Request {
    static final int GET = 1;
    static final int HEAD = 2;
    static final int POST = 3;
    /** Any other syntactically valid method: answered with 405. */
    static final int OTHER = 4;

    int method;
    int targetStart;
    int targetEnd;
    /** The minor version: 0 for HTTP/1.0, 1 for HTTP/1.1 and later 1.x (served as 1.1, RFC 9110 6.2). */
    int minor;
    /** The Content-Length, or -1 if none was given. */
    long contentLength;
    /** A Transfer-Encoding field was present. */
    boolean transferEncoding;
    /** Transfer-Encoding ends with chunked (applied once) and names nothing else: the body is chunked. */
    boolean chunked;
    /** Transfer-Encoding: chunked was not the last coding, or came twice (400, RFC 9112 6.1). */
    boolean chunkedNotFinal;
    /** Transfer-Encoding named a coding other than chunked (501). */
    boolean otherCoding;
    boolean connectionClose;
    boolean connectionKeepAlive;
    int hostHeaders;
    boolean expectContinue;
    boolean expectOther;
    /** Offsets of the If-Modified-Since value; start is -1 if absent. */
    int ifModifiedSinceStart;
    int ifModifiedSinceEnd;
    /** Offsets of If-None-Match; start -1 if absent, -2 if it came more than once (then ignored). */
    int ifNoneMatchStart;
    int ifNoneMatchEnd;
    /** Offsets of Range; start -1 if absent, -2 if repeated (ignored). */
    int rangeStart;
    int rangeEnd;
    /** Offsets of If-Range; start -1 if absent. */
    int ifRangeStart;
    int ifRangeEnd;
    /** Offsets of Accept-Encoding; start -1 if absent. */
    int acceptEncodingStart;
    int acceptEncodingEnd;
    /** Offsets of the request line (for the access log), without its CRLF. */
    int lineStart;
    int lineEnd;

    void reset() {
        method = 0;
        targetStart = 0;
        targetEnd = 0;
        minor = 1;
        contentLength = -1;
        transferEncoding = false;
        chunked = false;
        chunkedNotFinal = false;
        otherCoding = false;
        connectionClose = false;
        connectionKeepAlive = false;
        hostHeaders = 0;
        expectContinue = false;
        expectOther = false;
        ifModifiedSinceStart = -1;
        ifModifiedSinceEnd = -1;
        ifNoneMatchStart = -1;
        ifNoneMatchEnd = -1;
        rangeStart = -1;
        rangeEnd = -1;
        ifRangeStart = -1;
        ifRangeEnd = -1;
        acceptEncodingStart = -1;
        acceptEncodingEnd = -1;
        lineStart = 0;
        lineEnd = 0;
    }

    /** Whether the connection stays open after the response: HTTP/1.1 unless "close", 1.0 only if "keep-alive". */
    boolean keepAlive() {
        return !connectionClose && (minor == 1 || connectionKeepAlive);
    }
}
