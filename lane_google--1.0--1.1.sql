/* lane_google--1.0--1.1.sql: the legacy schema plus this round's objects that work at the legacy version */

\echo Use "ALTER EXTENSION lane_google UPDATE TO '1.1'" to load this file. \quit

-- Adds objects and changes no row.  Each capability adds its objects in a
-- block of its own below.  (Objects in both 1.1 and 2.1 are created here and
-- in lane_google--2.0--2.1.sql; objects only in 1.1 also in
-- lane_google--2.1--1.1.sql.)
