package org.epoll4j.net;

import javax.net.ssl.SSLEngine;
import java.lang.reflect.Method;

/**
 * What a JSSE provider's engine needs beyond the standard API, applied to every engine {@link TlsConfig} makes. Only
 * Conscrypt (BoringSSL) needs anything: its server engines have session tickets off unless asked (so TLS 1.3 clients
 * could never resume), turned on here through {@code org.conscrypt.Conscrypt.setUseSessionTickets}, found by
 * reflection because the provider is the user's optional dependency, not the library's.
 */
final class EngineQuirks {
    private static final String CONSCRYPT_PACKAGE = "org.conscrypt.";
    /** {@code Conscrypt.setUseSessionTickets(SSLEngine, boolean)} and the class loader it was looked up in. */
    private record Lookup(ClassLoader loader, Method useSessionTickets) {
    }

    /** The last lookup: one field, so a reader never pairs one loader's method with another loader. */
    private static volatile Lookup last;

    private EngineQuirks() {
    }

    /**
     * Whether {@code engine} encrypts in native code and so wraps from and into direct buffers without a copy (and
     * copies heap ones through JNI): Conscrypt. The JDK's engine is the other way round (Java code on arrays).
     */
    static boolean prefersDirectBuffers(SSLEngine engine) {
        return engine.getClass().getName().startsWith(CONSCRYPT_PACKAGE);
    }

    /** Applies what {@code engine}'s provider needs; a provider without quirks costs one class-name check. */
    static void apply(SSLEngine engine) {
        if (!engine.getClass().getName().startsWith(CONSCRYPT_PACKAGE)) {
            return;
        }
        Method m = conscryptTickets(engine.getClass().getClassLoader());
        if (m != null) {
            try {
                m.invoke(null, engine, true);
            } catch (ReflectiveOperationException | RuntimeException e) {
                // an older or newer Conscrypt without it: the engine works, TLS 1.3 resumption does not
            }
        }
    }

    private static Method conscryptTickets(ClassLoader loader) {
        Lookup l = last;
        if (l != null && l.loader() == loader) {
            return l.useSessionTickets();
        }
        Method m;
        try {
            Class<?> c = Class.forName(CONSCRYPT_PACKAGE + "Conscrypt", false, loader);
            m = c.getMethod("setUseSessionTickets", SSLEngine.class, boolean.class);
        } catch (ReflectiveOperationException | RuntimeException e) {
            m = null; // remembered too: an engine of this loader costs no second failed look-up
        }
        last = new Lookup(loader, m);
        return m;
    }
}
