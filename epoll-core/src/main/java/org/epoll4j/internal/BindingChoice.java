package org.epoll4j.internal;

import java.util.Locale;

/**
 * Chooses {@link LibC}'s binding once per process: the {@value #PROPERTY} system property ({@code jna} or
 * {@code ffm}) if set, else FFM on Java {@value #FFM_MIN_JAVA}+ when the jar carries it, else JNA.
 *
 * <p>The FFM class is compiled only by a JDK 22+ build, into the jar's {@code META-INF/versions/22}, and is looked up
 * by name only on Java 22+: on Java 17-21 it is never loaded, so there is no {@code UnsupportedClassVersionError}.
 */
final class BindingChoice {
    /** The system property that overrides the default. */
    static final String PROPERTY = "epoll4j.binding";
    /** java.lang.foreign is final (and {@code Linker.Option.critical} exists) from this Java version on. */
    static final int FFM_MIN_JAVA = 22;
    static final String FFM_CLASS = "org.epoll4j.internal.FfmBinding";

    private BindingChoice() {
    }

    /**
     * Which binding to use.
     *
     * @param requested   the property's value, or {@code null}/blank for the default
     * @param javaVersion the running Java version, as {@link Runtime#version()} gives it
     * @param ffmPresent  whether the FFM binding's class is loadable here (false on Java &lt; 22)
     * @param ffmMissing  why it is not, for the error message when FFM was asked for
     * @return {@code "jna"} or {@code "ffm"}
     * @throws UnsupportedOperationException if FFM is asked for but cannot be used here
     * @throws IllegalArgumentException      if the property names something else
     */
    static String choose(String requested, Runtime.Version javaVersion, boolean ffmPresent, String ffmMissing) {
        String r = requested == null ? "" : requested.trim().toLowerCase(Locale.ROOT);
        switch (r) {
            case "":
                return ffmPresent && javaVersion.feature() >= FFM_MIN_JAVA ? "ffm" : "jna";
            case "jna":
                return "jna";
            case "ffm":
                if (javaVersion.feature() < FFM_MIN_JAVA) {
                    throw new UnsupportedOperationException(PROPERTY + "=ffm needs Java " + FFM_MIN_JAVA
                            + " or later (java.lang.foreign); this is Java " + javaVersion
                            + ". Use " + PROPERTY + "=jna or leave it unset.");
                }
                if (!ffmPresent) {
                    throw new UnsupportedOperationException(PROPERTY + "=ffm on Java " + javaVersion + ": " + ffmMissing);
                }
                return "ffm";
            default:
                throw new IllegalArgumentException(PROPERTY + " must be 'jna' or 'ffm', not '" + requested + "'");
        }
    }

    /** Chooses, instantiates and logs (once, at DEBUG) the binding for this process. */
    static Binding load() {
        NativePlatform.requireSupported(); // before binding anything: both bindings assume LP64 x86_64/aarch64
        String requested = System.getProperty(PROPERTY);
        Runtime.Version version = Runtime.version();
        Class<?> ffm = version.feature() >= FFM_MIN_JAVA ? ffmClass() : null;
        String choice = choose(requested, version, ffm != null, ffm != null ? "" : ffmMissingReason());
        Binding binding;
        if (choice.equals("ffm")) {
            try {
                binding = (Binding) ffm.getDeclaredConstructor().newInstance();
            } catch (ReflectiveOperationException e) {
                throw new IllegalStateException("cannot create the FFM binding " + FFM_CLASS, e);
            }
        } else {
            binding = new JnaBinding();
        }
        System.getLogger(LibC.class.getName()).log(System.Logger.Level.DEBUG, () -> "epoll4j binding: "
                + binding.name() + " on Java " + version + (requested == null || requested.isBlank()
                ? " (default; -D" + PROPERTY + "=jna|ffm overrides)" : " (-D" + PROPERTY + "=" + requested + ")"));
        return binding;
    }

    /** The FFM binding's class, or {@code null} if this jar lacks it. Call on Java 22+ only. */
    private static Class<?> ffmClass() {
        try {
            return Class.forName(FFM_CLASS, false, BindingChoice.class.getClassLoader());
        } catch (ClassNotFoundException e) {
            return null;
        }
    }

    private static String ffmMissingReason() {
        ClassLoader loader = BindingChoice.class.getClassLoader();
        String versioned = "META-INF/versions/" + FFM_MIN_JAVA + "/" + FFM_CLASS.replace('.', '/') + ".class";
        if (loader != null && loader.getResource(versioned) != null) {
            return "the jar holds " + versioned + " but its manifest lacks 'Multi-Release: true' (was it repackaged?"
                    + " add that entry to the shaded jar's manifest)";
        }
        return "this epoll4j build has no FFM binding (" + FFM_CLASS + "): it was compiled on a JDK older than "
                + FFM_MIN_JAVA + ", which builds the JNA binding only";
    }
}
