package org.epoll4j.internal;

import org.epoll4j.testutil.FdLeakCheck;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The hand-built {@code struct msghdr} is checked against the kernel, and a wrong layout would be caught. */
@ExtendWith(FdLeakCheck.class)
@Timeout(10)
class MsgHdrLayoutTest {
    @Test
    void layoutMatchesTheKernel() {
        assertNull(MsgHdr.check(MsgHdr.MSG_IOV, MsgHdr.MSG_IOVLEN));
        MsgHdr.verifyLayout();
        MsgHdr.verifyLayout(); // once is enough; a second call is free
    }

    @Test
    void aWrongLayoutIsReported() {
        // msg_iov where msg_namelen and its padding are: the kernel sees a NULL msg_iov with two entries.
        String problem = MsgHdr.check(8, MsgHdr.MSG_IOVLEN);
        assertNotNull(problem);
        assertTrue(problem.contains("EFAULT"), problem);
        // one iovec counted instead of two: only "abc" arrives
        String shortWrite = MsgHdr.check(MsgHdr.MSG_IOV, 32);
        assertNotNull(shortWrite);
    }
}
