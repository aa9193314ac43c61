// Bundled by the SIP.js test into one browser script: window.SIP.
import * as SIP from "sip.js";
window.SIP = SIP;
