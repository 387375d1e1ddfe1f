/* version.h -- the version both programs print. */
#ifndef MERIDIAN_VERSION_H
#define MERIDIAN_VERSION_H

#define MERIDIAN_VERSION "0.2.0"

#endif
