package org.epoll4j.net;

/**
 * Why a connection's reading is paused. Reading stops while any reason holds and resumes when none does, so two
 * parts of the library (or the application and the library) that both push back on the peer never undo each
 * other's pause. {@link Connection#pauseReading()} and {@link Connection#resumeReading()} are {@link #USER}.
 */
enum ReadPause {
    /** The application: {@link Connection#pauseReading()}. */
    USER,
    /** The connection's own flow control (e.g. its outbound queue above the high watermark). */
    BACKPRESSURE,
    /** An {@link Offload} has as many tasks in flight as it allows. */
    OFFLOAD,
    /** The TLS engine's delegated task runs on the task executor: no record can be unwrapped until it ends. */
    TLS_TASK,
    /** A rate limiter withholds reads. */
    RATE_LIMIT,
    /** A {@link BlockingConnection}'s inbound buffer is full: its reader has not yet taken what arrived. */
    BLOCKING_READER,
    /** A {@link Splice}'s pipe out of this connection is full: the other connection has not taken its bytes yet. */
    SPLICE;

    /** This reason's bit in a set of reasons. */
    int bit() {
        return 1 << ordinal();
    }
}
