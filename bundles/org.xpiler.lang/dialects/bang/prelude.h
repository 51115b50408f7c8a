// What the BANG harness prepends to a kernel file that has no #include lines of its own.
#include <bang.h>
