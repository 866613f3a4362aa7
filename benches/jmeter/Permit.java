// Debian's JMeter (2.13) cannot load any test plan with the XStream Debian
// ships beside it (1.4.20): XStream has denied every type by default since
// 1.4.18, and JMeter 2.13 never allows its own, so loading a .jmx fails with
// ForbiddenClassException: org.apache.jmeter.save.ScriptWrapper.
//
// This launcher loads JMeter's properties, allows any type on the XStream
// instances of JMeter's SaveService (the test plan and results readers: the
// plans read here are the ones harness score writes), then starts JMeter
// with the arguments it was given, as the `jmeter` script would.
// benches/score-tools.sh compiles it and writes a `jmeter` wrapper that runs
// it; nothing else uses it.

import com.thoughtworks.xstream.XStream;
import com.thoughtworks.xstream.security.AnyTypePermission;

public class Permit {
    public static void main(String[] args) throws Exception {
        String home = System.getProperty("jmeter.home", "/usr/share/jmeter");
        org.apache.jmeter.util.JMeterUtils.setJMeterHome(home);
        org.apache.jmeter.util.JMeterUtils.loadJMeterProperties(home + "/bin/jmeter.properties");
        Class<?> saveService = Class.forName("org.apache.jmeter.save.SaveService");
        for (java.lang.reflect.Field f : saveService.getDeclaredFields()) {
            if (XStream.class.isAssignableFrom(f.getType())) {
                f.setAccessible(true);
                ((XStream) f.get(null)).addPermission(AnyTypePermission.ANY);
            }
        }
        new org.apache.jmeter.JMeter().start(args);
    }
}
