/* lane_google--1.1--1.0.sql: back to the released legacy schema */

\echo Use "ALTER EXTENSION lane_google UPDATE TO '1.0'" to load this file. \quit

-- Drops what lane_google--1.0--1.1.sql added and changes no row of the 11
-- tables.  Each capability drops its objects in a block of its own below.
