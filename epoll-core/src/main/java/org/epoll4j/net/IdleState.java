package org.epoll4j.net;

/** Which idle timeout of a {@link ConnectionConfig} expired. */
public enum IdleState {
    /** Nothing was read for the read-idle timeout. */
    READER_IDLE,
    /** Nothing was written for the write-idle timeout. */
    WRITER_IDLE,
    /** Nothing was read or written for the all-idle timeout. */
    ALL_IDLE
}
