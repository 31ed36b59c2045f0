/* lane_google--2.1--2.0.sql: back to the released UUID schema */

\echo Use "ALTER EXTENSION lane_google UPDATE TO '2.0'" to load this file. \quit

-- Drops what lane_google--2.0--2.1.sql added and changes no row of the 11
-- tables.  Each capability drops its objects in a block of its own below.
