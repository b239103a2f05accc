// zlib from the system (Debian's zlib1g-dev): inflate and deflate for agent packages (zip).
#include <zlib.h>
