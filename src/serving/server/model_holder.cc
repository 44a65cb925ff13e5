#include "serving/server/model_holder.h"
