"""The exercises a new practice starts with, for anterior knee pain.

Migration 0002 copies this list into the exercise library; managers then keep the library
in the admin site. The first four are the ones the clinic's source articles name.
"""

from typing import NamedTuple


class LibraryExercise(NamedTuple):
    name: str
    category: str
    body_region: str
    instructions: str


EXERCISES: tuple[LibraryExercise, ...] = (
    LibraryExercise(
        "Knee extension",
        "knee_strengthening",
        "knee",
        "Sit tall on a firm chair with your feet flat. Straighten one knee slowly until the leg "
        "is level, tighten the muscle on the front of the thigh, then lower it with control. "
        "You can do this at your desk to break up long periods of sitting.",
    ),
    LibraryExercise(
        "Clam shells",
        "hip_strengthening",
        "hip",
        "Lie on your side with hips and knees bent and your heels together. Keeping your feet "
        "touching and your pelvis still, lift the top knee as far as you can without rolling "
        "backwards, then lower it slowly. You should feel it in the side of your buttock.",
    ),
    LibraryExercise(
        "Standing calf stretch",
        "stretching",
        "ankle_foot",
        "Stand facing a wall with your hands on it and one foot a big step behind the other. "
        "Keep the back knee straight and the heel on the floor, and lean forward until you feel "
        "a stretch in the calf. Breathe normally while you hold it.",
    ),
    LibraryExercise(
        "Sit to stand",
        "knee_strengthening",
        "knee",
        "Sit near the front of a chair with your feet hip-width apart. Lean forward from the hips, "
        "squeeze your buttocks and stand up without using your hands, keeping your knees in line "
        "with your toes. Sit back down slowly; use a higher seat if it hurts.",
    ),
    LibraryExercise(
        "Side-lying hip abduction",
        "hip_strengthening",
        "hip",
        "Lie on your side with the bottom knee bent and the top leg straight, in line with your "
        "body. Lift the top leg towards the ceiling, leading with the heel and keeping the toes "
        "pointing forward. Lower it slowly without letting the hips roll back.",
    ),
    LibraryExercise(
        "Glute bridge",
        "hip_strengthening",
        "hip",
        "Lie on your back with knees bent and feet flat, hip-width apart. Squeeze your buttocks "
        "and lift your hips until your body makes a straight line from shoulders to knees. "
        "Pause, then lower one vertebra at a time.",
    ),
    LibraryExercise(
        "Banded side steps",
        "hip_strengthening",
        "hip",
        "Put a resistance band around your legs just above the knees and stand with knees "
        "slightly bent. Step sideways, keeping the band tight and your knees pointing forward, "
        "not caving in. Take the same number of steps back the other way.",
    ),
    LibraryExercise(
        "Prone hip extension",
        "hip_strengthening",
        "hip",
        "Lie on your front with a pillow under your hips. Tighten your buttock and lift one "
        "straight leg a hand's width off the floor without arching your lower back. Lower it "
        "slowly and repeat on the other side.",
    ),
    LibraryExercise(
        "Standing hip abduction with band",
        "hip_strengthening",
        "hip",
        "Stand tall holding a support, with a band around both ankles. Move one leg out to the "
        "side against the band, keeping your body upright and your toes facing forward, then "
        "bring it back slowly.",
    ),
    LibraryExercise(
        "Straight leg raise",
        "knee_strengthening",
        "knee",
        "Lie on your back with one knee bent and the other leg straight. Tighten the thigh of "
        "the straight leg so the kneecap pulls up, then lift the leg to the height of the bent "
        "knee. Hold briefly and lower it without letting the knee bend.",
    ),
    LibraryExercise(
        "Wall sit",
        "knee_strengthening",
        "knee",
        "Lean your back against a wall with your feet about a foot in front of you. Slide down "
        "only as far as is comfortable, keeping your knees over your feet, and hold the "
        "position. Slide back up to finish.",
    ),
    LibraryExercise(
        "Step-up",
        "knee_strengthening",
        "knee",
        "Stand facing a low step. Put one whole foot on it and push through that heel to step "
        "up, keeping the knee in line with the second toe. Step down slowly with the other "
        "foot; raise the step height only when it feels easy.",
    ),
    LibraryExercise(
        "Forward step-down",
        "knee_strengthening",
        "knee",
        "Stand on a low step on one leg. Bend the standing knee slowly to lower the other heel "
        "towards the floor in front, keeping the kneecap pointing straight ahead and the pelvis "
        "level. Straighten back up with control.",
    ),
    LibraryExercise(
        "Terminal knee extension with band",
        "knee_strengthening",
        "knee",
        "Loop a band around a fixed point and behind one knee, and step back until it is taut. "
        "Starting with the knee slightly bent, straighten it fully against the band by "
        "tightening the thigh, then let it bend again slowly.",
    ),
    LibraryExercise(
        "Mini squat",
        "knee_strengthening",
        "knee",
        "Stand with feet hip-width apart, holding a support if you need one. Push your hips "
        "back and bend your knees a little, keeping them over your toes and your weight through "
        "your heels. Return to standing by squeezing your buttocks.",
    ),
    LibraryExercise(
        "Standing quadriceps stretch",
        "stretching",
        "knee",
        "Stand holding a support and bend one knee to bring the heel towards your buttock, "
        "holding the ankle with your hand. Keep your knees together and tuck your pelvis under "
        "until you feel a stretch down the front of the thigh. Use a towel around the ankle if "
        "you cannot reach it.",
    ),
    LibraryExercise(
        "Kneeling hip flexor stretch",
        "stretching",
        "hip",
        "Kneel on one knee on a cushion with the other foot flat in front. Tuck your tailbone "
        "under and shift your weight gently forward until you feel a stretch at the front of "
        "the hip of the kneeling leg. Keep your back upright.",
    ),
    LibraryExercise(
        "Seated hamstring stretch",
        "stretching",
        "knee",
        "Sit on the edge of a chair with one leg straight in front, heel on the floor. Keeping "
        "your back straight, lean forward from the hips until you feel a stretch behind the "
        "thigh. Do not bounce.",
    ),
    LibraryExercise(
        "Bent-knee calf stretch",
        "stretching",
        "ankle_foot",
        "Stand as for the calf stretch against a wall, then bend the back knee while keeping "
        "its heel down. You should feel the stretch lower in the calf, near the Achilles "
        "tendon. Hold it gently.",
    ),
    LibraryExercise(
        "Single-leg balance",
        "stabilisation",
        "knee",
        "Stand on one leg near a support with the knee slightly soft. Keep your pelvis level and "
        "the kneecap facing forward while you hold your balance. Make it harder by closing your "
        "eyes or standing on a cushion.",
    ),
    LibraryExercise(
        "Side plank",
        "stabilisation",
        "hip",
        "Lie on your side propped on your forearm, with your knees bent to start. Lift your "
        "hips so your body forms a straight line and hold without letting the hips sag. "
        "Straighten the legs to make it harder.",
    ),
    LibraryExercise(
        "Single-leg deadlift",
        "stabilisation",
        "hip",
        "Stand on one leg with the knee slightly bent. Hinge forward at the hips, letting the "
        "other leg lift behind you, and keep your back flat and the standing knee over the "
        "foot. Return upright by squeezing the buttock of the standing leg.",
    ),
    LibraryExercise(
        "Bird dog",
        "stabilisation",
        "lumbar",
        "Kneel on all fours with hands under shoulders and knees under hips. Reach one arm "
        "forward and the opposite leg back without tipping your pelvis or arching your back. "
        "Return slowly and change sides.",
    ),
    LibraryExercise(
        "Mirror squat",
        "movement_retraining",
        "knee",
        "Stand facing a mirror with feet hip-width apart. Squat slowly while watching your "
        "knees: keep them apart and the kneecaps pointing straight ahead, and squeeze your "
        "buttocks as you stand up.",
    ),
    LibraryExercise(
        "Mirror single-leg squat",
        "movement_retraining",
        "knee",
        "Stand on one leg facing a mirror. Bend the knee a little while keeping the pelvis level "
        "and the knee over the middle of the foot, not drifting inwards. Stop at the depth "
        "where you can still control it.",
    ),
    LibraryExercise(
        "Hip hinge pick-up",
        "movement_retraining",
        "hip",
        "When you pick something up, push your hips back and bend at the hips rather than "
        "dropping straight down through the knees. Keep your back long and squeeze your "
        "buttocks to stand. Practise with a light object until it feels natural.",
    ),
    LibraryExercise(
        "Soft landing drill",
        "movement_retraining",
        "knee",
        "Jump gently on the spot or step off a low step and land quietly on the balls of your "
        "feet with knees bent and apart. Aim for landings you can barely hear. Stop if the "
        "knee pain rises above the level agreed with your physiotherapist.",
    ),
)

#: The exercises named in the clinic's source articles; they must always be in the library.
SEED_EXERCISE_NAMES = ("Knee extension", "Clam shells", "Standing calf stretch", "Sit to stand")
